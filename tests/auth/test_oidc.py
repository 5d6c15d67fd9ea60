"""Dashboard users' access tokens (Entra ID / OIDC): real RSA keys, a real JWKS on loopback.

The first half drives `OidcVerifier` directly; the second half a real server subprocess
configured by `USAGELENS_OIDC_*`, against seed 002's usage endpoint and a tenant-key-only one.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.service import Server, cli, new_key
from usagelens.auth.oidc import OidcVerifier
from usagelens.auth.tokens import InvalidToken

AUDIENCE = "api://usagelens"
KEYS_PATH = "/discovery/v2.0/keys"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """An identity provider on 127.0.0.1: one JWKS per tenant at `/{tid}/discovery/v2.0/keys`
    (the same keys for every tenant unless told otherwise), counting the requests per tenant."""

    def __init__(self) -> None:
        self.key = new_rsa_key()
        self.kid = "key-1"
        self.published: list[dict[str, Any]] = [public_jwk(self.key, self.kid)]
        self.failing: dict[str, str] = {}  # tid -> "500" | "garbage"
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                tid, _, rest = self.path.removeprefix("/").partition("/")
                with issuer._lock:
                    issuer.hits[tid] += 1
                    failing = issuer.failing.get(tid)
                    keys = list(issuer.published)
                if f"/{rest}" != KEYS_PATH:
                    self._answer(404, b"{}")
                elif failing == "500":
                    self._answer(500, b"oops")
                elif failing == "garbage":
                    self._answer(200, b"{not json")
                else:
                    self._answer(200, json.dumps({"keys": keys}).encode())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer_template(self) -> str:
        return f"{self.base}/{{tid}}/v2.0"

    @property
    def jwks_template(self) -> str:
        return f"{self.base}/{{tid}}{KEYS_PATH}"

    def publish(self, *jwks: dict[str, Any]) -> None:
        with self._lock:
            self.published = [*self.published, *jwks]

    def fail(self, tid: str, how: str) -> None:
        with self._lock:
            self.failing[tid] = how

    def count(self, tid: str) -> int:
        with self._lock:
            return self.hits[tid]

    def token(
        self,
        tenant: str,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        **overrides: Any,
    ) -> str:
        """A token as Entra ID v2 would sign it for `tenant`; a claim overridden with None is
        left out."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": f"{self.base}/{tenant}/v2.0",
            "aud": AUDIENCE,
            "tid": tenant,
            "sub": "user-1",
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(hours=1),
            **overrides,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    running = Issuer()
    try:
        yield running
    finally:
        running.close()


def verifier(issuer: Issuer, refresh_seconds: int = 300, leeway_seconds: int = 60) -> OidcVerifier:
    return OidcVerifier(
        issuer=issuer.issuer_template,
        audience=AUDIENCE,
        jwks_url=issuer.jwks_template,
        leeway_seconds=leeway_seconds,
        refresh_seconds=refresh_seconds,
    )


def new_tid() -> str:
    return str(uuid.uuid4())


# Tokens every verifier must refuse, each made for tenant `tid` by the given issuer.


def _expired(issuer: Issuer, tid: str) -> str:
    past = datetime.now(UTC) - timedelta(hours=2)
    return issuer.token(tid, iat=past, nbf=past, exp=past + timedelta(minutes=30))


def _not_yet_valid(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, nbf=datetime.now(UTC) + timedelta(minutes=10))


def _wrong_audience(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, aud="api://someone-else")


def _wrong_issuer(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, iss=f"https://login.microsoftonline.com/{tid}/v2.0")


def _issuer_of_another_tenant(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, iss=f"{issuer.base}/{new_tid()}/v2.0")


def _bad_signature(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, key=new_rsa_key(), kid=issuer.kid)


def _alg_none(issuer: Issuer, tid: str) -> str:
    now = int(time.time())
    header = {"alg": "none", "typ": "JWT", "kid": issuer.kid}
    payload = {
        "iss": f"{issuer.base}/{tid}/v2.0",
        "aud": AUDIENCE,
        "tid": tid,
        "nbf": now,
        "exp": now + 3600,
    }
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}."


def _hs256_with_public_key(issuer: Issuer, tid: str) -> str:
    """The classic key-confusion attack: HMAC keyed with the issuer's public key (PEM)."""
    pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(issuer.token(tid), options={"verify_signature": False})
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def _missing_tid(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, tid=None)


def _missing_exp(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, exp=None)


def _unknown_kid(issuer: Issuer, tid: str) -> str:
    return issuer.token(tid, key=new_rsa_key(), kid=f"kid-{uuid.uuid4()}")


BAD_TOKENS: dict[str, Callable[[Issuer, str], str]] = {
    "expired": _expired,
    "not yet valid": _not_yet_valid,
    "wrong audience": _wrong_audience,
    "wrong issuer": _wrong_issuer,
    "issuer of another tenant": _issuer_of_another_tenant,
    "bad signature": _bad_signature,
    "alg none": _alg_none,
    "HS256 with the public key": _hs256_with_public_key,
    "missing tid": _missing_tid,
    "missing exp": _missing_exp,
    "unknown kid": _unknown_kid,
}


# --- OidcVerifier on its own ---------------------------------------------------------------


def test_valid_token_gives_its_tenant(issuer: Issuer) -> None:
    tid = new_tid()
    assert verifier(issuer).tenant_claim(issuer.token(tid)) == tid
    assert issuer.count(tid) == 1


def test_keys_are_cached(issuer: Issuer) -> None:
    tid = new_tid()
    checking = verifier(issuer)
    for _ in range(5):
        assert checking.tenant_claim(issuer.token(tid)) == tid
    assert issuer.count(tid) == 1


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_bad_token_is_refused(issuer: Issuer, name: str) -> None:
    checking = verifier(issuer)
    tid = new_tid()
    assert checking.tenant_claim(issuer.token(tid)) == tid  # the keys are there and good
    with pytest.raises(InvalidToken):
        checking.tenant_claim(BAD_TOKENS[name](issuer, tid))


def test_lifetime_within_the_leeway_is_accepted(issuer: Issuer) -> None:
    tid = new_tid()
    checking = verifier(issuer, leeway_seconds=60)
    now = datetime.now(UTC)
    just_expired = issuer.token(tid, iat=now - timedelta(hours=1), exp=now - timedelta(seconds=30))
    almost_valid = issuer.token(tid, nbf=now + timedelta(seconds=30))
    assert checking.tenant_claim(just_expired) == tid
    assert checking.tenant_claim(almost_valid) == tid
    beyond = issuer.token(tid, nbf=now + timedelta(seconds=120))
    with pytest.raises(InvalidToken):
        checking.tenant_claim(beyond)


def test_without_leeway_an_expired_token_is_refused(issuer: Issuer) -> None:
    tid = new_tid()
    now = datetime.now(UTC)
    token = issuer.token(tid, iat=now - timedelta(hours=1), exp=now - timedelta(seconds=5))
    with pytest.raises(InvalidToken):
        verifier(issuer, leeway_seconds=0).tenant_claim(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0",
        "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        b64url(b"[1,2]") + "." + b64url(b"{}") + ".",
        "\u00e9\u00e9\u00e9.\u00e9.\u00e9",
        "x" * 10_000,
    ],
)
def test_garbage_is_refused(issuer: Issuer, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier(issuer).tenant_claim(token)


def test_tenant_claim_unfit_for_an_address_is_refused_without_fetching(issuer: Issuer) -> None:
    checking = verifier(issuer)
    for tid in ("../other", "a/b", "x?y=1", "%2e%2e", ".hidden", ""):
        with pytest.raises(InvalidToken):
            checking.tenant_claim(issuer.token(tid))
        assert issuer.count(tid.partition("/")[0]) == 0


def test_rs256_key_published_for_another_algorithm_is_not_used(issuer: Issuer) -> None:
    """A JWKS entry whose `alg` is not RS256 (or whose `use` is encryption) is ignored."""
    tid = new_tid()
    key = new_rsa_key()
    issuer.publish(
        {**public_jwk(key, "as-rs512"), "alg": "RS512"},
        {**public_jwk(key, "for-encryption"), "use": "enc"},
    )
    checking = verifier(issuer)
    for kid in ("as-rs512", "for-encryption"):
        with pytest.raises(InvalidToken):
            checking.tenant_claim(issuer.token(tid, key=key, kid=kid))
    assert issuer.count(tid) == 1


def test_unknown_kid_refetches_once_per_interval(issuer: Issuer) -> None:
    tid = new_tid()
    checking = verifier(issuer, refresh_seconds=300)
    assert checking.tenant_claim(issuer.token(tid)) == tid
    assert issuer.count(tid) == 1
    with pytest.raises(InvalidToken):
        checking.tenant_claim(_unknown_kid(issuer, tid))
    # The first fetch was for the first token, so this unknown kid found the interval running.
    assert issuer.count(tid) == 1
    fresh = new_tid()
    with pytest.raises(InvalidToken):
        checking.tenant_claim(_unknown_kid(issuer, fresh))
    assert issuer.count(fresh) == 1  # one fetch, nothing found
    for _ in range(20):
        with pytest.raises(InvalidToken):
            checking.tenant_claim(_unknown_kid(issuer, fresh))
    assert issuer.count(fresh) == 1  # a flood of random kids does not reach the issuer
    assert checking.tenant_claim(issuer.token(fresh)) == fresh  # the known kid still works
    assert issuer.count(fresh) == 1


def test_tokens_of_unknown_tenants_never_reach_the_issuer(issuer: Issuer) -> None:
    known = new_tid()
    checking = OidcVerifier(
        issuer=issuer.issuer_template,
        audience=AUDIENCE,
        jwks_url=issuer.jwks_template,
        is_known_tenant=lambda tenant: tenant == known,
    )
    assert checking.tenant_claim(issuer.token(known)) == known
    forged = [new_tid() for _ in range(10)]
    for tid in forged:
        with pytest.raises(InvalidToken):
            checking.tenant_claim(issuer.token(tid))
    assert [issuer.count(tid) for tid in forged] == [0] * 10
    assert issuer.count(known) == 1


def test_concurrent_unknown_kids_fetch_once(issuer: Issuer) -> None:
    tid = new_tid()
    checking = verifier(issuer, refresh_seconds=300)
    tokens = [issuer.token(tid)] + [_unknown_kid(issuer, tid) for _ in range(15)]
    answers: list[str | None] = []
    lock = threading.Lock()

    def check(token: str) -> None:
        try:
            found: str | None = checking.tenant_claim(token)
        except InvalidToken:
            found = None
        with lock:
            answers.append(found)

    threads = [threading.Thread(target=check, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Counter(answers) == Counter({None: 15, tid: 1})
    assert issuer.count(tid) == 1


def test_key_rotation_is_picked_up_after_the_interval(issuer: Issuer) -> None:
    tid = new_tid()
    checking = verifier(issuer, refresh_seconds=1)
    assert checking.tenant_claim(issuer.token(tid)) == tid
    rotated = new_rsa_key()
    kid = f"rotated-{uuid.uuid4()}"
    issuer.publish(public_jwk(rotated, kid))
    token = issuer.token(tid, key=rotated, kid=kid)
    with pytest.raises(InvalidToken):  # published, but the set was fetched less than 1 s ago
        checking.tenant_claim(token)
    assert issuer.count(tid) == 1
    time.sleep(1.1)
    assert checking.tenant_claim(token) == tid
    assert issuer.count(tid) == 2
    assert checking.tenant_claim(issuer.token(tid)) == tid  # the old key is still published


@pytest.mark.parametrize("how", ["500", "garbage"])
def test_failed_refetch_keeps_the_last_good_keys(issuer: Issuer, how: str) -> None:
    tid = new_tid()
    checking = verifier(issuer, refresh_seconds=1)
    assert checking.tenant_claim(issuer.token(tid)) == tid
    issuer.fail(tid, how)
    time.sleep(1.1)
    with pytest.raises(InvalidToken):  # triggers a refetch, which fails
        checking.tenant_claim(_unknown_kid(issuer, tid))
    assert issuer.count(tid) == 2
    assert checking.tenant_claim(issuer.token(tid)) == tid


def test_unreachable_jwks_refuses_tokens(issuer: Issuer) -> None:
    tid = new_tid()
    issuer.fail(tid, "500")
    checking = verifier(issuer)
    for _ in range(3):
        with pytest.raises(InvalidToken):
            checking.tenant_claim(issuer.token(tid))
    assert issuer.count(tid) == 1


# --- Over HTTP, against a real server ------------------------------------------------------

TID_A = str(uuid.uuid4())
TID_B = str(uuid.uuid4())
USAGE = "/v1/accounts/{}/analytics/usage"
INVALID = {"detail": "invalid access token"}


@dataclass
class Deployment:
    server: Server
    issuer: Issuer
    keys: dict[str, str]  # tenant name -> tenant key

    def get(self, path: str, token: str) -> httpx.Response:
        return httpx.get(
            f"{self.server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def put(self, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.put(
            f"{self.server.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def deployment(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    db: Path = tmp_path_factory.mktemp("oidc") / "usagelens.duckdb"
    cli("tenants", "create", "acme", "--entra-tenant-id", TID_A, db=db)
    cli("tenants", "create", "beta", "--entra-tenant-id", TID_B, db=db)
    keys = {name: new_key(db, "--tenant", name) for name in ("acme", "beta")}
    with pytest.MonkeyPatch.context() as patch:  # the server inherits the environment
        patch.setenv("USAGELENS_OIDC_ISSUER", issuer.issuer_template)
        patch.setenv("USAGELENS_OIDC_AUDIENCE", AUDIENCE)
        patch.setenv("USAGELENS_OIDC_JWKS_URL", issuer.jwks_template)
        patch.setenv("USAGELENS_OIDC_JWKS_REFRESH_SECONDS", "300")
        server = Server(db).start()
    try:
        for name, account in (("acme", "acct-a"), ("beta", "acct-b")):
            created = httpx.put(
                f"{server.url}/v1/organizations/{account}",
                json={"name": name.title()},
                headers={"X-API-Key": keys[name]},
                timeout=30,
            )
            assert created.status_code == 200, created.text
        yield Deployment(server, issuer, keys)
    finally:
        server.stop()


def test_token_reads_its_own_tenant(deployment: Deployment) -> None:
    token_a = deployment.issuer.token(TID_A)
    own = deployment.get(USAGE.format("acct-a"), token_a)
    assert own.status_code == 200, own.text
    assert own.json()["meta"]["account_id"] == "acct-a"
    token_b = deployment.issuer.token(TID_B)
    other = deployment.get(USAGE.format("acct-a"), token_b)
    assert other.status_code == 404, other.text
    assert deployment.get(USAGE.format("acct-b"), token_b).status_code == 200


def test_another_tenants_account_is_like_no_account(deployment: Deployment) -> None:
    token = deployment.issuer.token(TID_A)
    theirs = deployment.get(USAGE.format("acct-b"), token)
    nowhere = deployment.get(USAGE.format("acct-nowhere"), token)
    assert theirs.status_code == nowhere.status_code == 404, theirs.text
    assert theirs.text.replace("acct-b", "ID") == nowhere.text.replace("acct-nowhere", "ID")


def test_the_same_reader_with_a_tenant_key(deployment: Deployment) -> None:
    found = deployment.get(USAGE.format("acct-a"), deployment.keys["acme"])
    assert found.status_code == 200, found.text


def _unknown_tenant(issuer: Issuer, tid: str) -> str:
    """Signed correctly, by the right issuer, for a `tid` no usagelens tenant carries."""
    return issuer.token(new_tid())


HTTP_BAD_TOKENS = {**BAD_TOKENS, "unknown tenant": _unknown_tenant}


@pytest.mark.parametrize("name", sorted(HTTP_BAD_TOKENS))
def test_bad_token_gets_401_and_nothing_else(deployment: Deployment, name: str) -> None:
    token = HTTP_BAD_TOKENS[name](deployment.issuer, TID_A)
    for account in ("acct-a", "acct-nowhere"):
        response = deployment.get(USAGE.format(account), token)
        assert response.status_code == 401, response.text
        assert response.json() == INVALID
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("name", sorted(HTTP_BAD_TOKENS))
def test_bad_token_on_a_tenant_key_endpoint_gets_401(deployment: Deployment, name: str) -> None:
    token = HTTP_BAD_TOKENS[name](deployment.issuer, TID_A)
    response = deployment.put("/v1/organizations/acct-a", token, {"name": "Acme"})
    assert response.status_code == 401, response.text
    assert set(response.json()) == {"detail"}


def test_valid_token_is_not_a_key_for_tenant_key_endpoints(deployment: Deployment) -> None:
    # The directory's reads take tokens (the dashboard's pickers); its writes do not.
    token = deployment.issuer.token(TID_A)
    response = deployment.put("/v1/organizations/acct-a", token, {"name": "Acme"})
    assert response.status_code == 401, response.text
    assert set(response.json()) == {"detail"}
