"""Verifying dashboard users' access tokens against the issuer's JWKS (Entra ID or any OIDC).

Only RS256 is accepted. The issuer and the JWKS address may name the token's tenant as `{tid}`
(Entra ID publishes one issuer and one key set per tenant); the tenant claim is read from the
unverified payload to pick them, then verified with everything else once the signature holds.

Keys are cached per JWKS address. A token naming a key id the cache does not hold triggers one
fetch of the key set, but at most one per `refresh_seconds` per address, so that a caller sending
random key ids cannot make the service hammer the identity provider (PyJWT's `PyJWKClient` has no
such limit); a fetch that fails keeps the last good keys. Concurrent requests that need the same
fetch wait for it rather than starting their own.
"""

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from usagelens.auth.tokens import InvalidToken

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
FETCH_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 1 << 20
# Key sets cached at once; only matters when the JWKS address contains `{tid}`.
MAX_KEY_SETS = 1024
# A tenant claim placed into an address: Entra ID's are GUIDs; no `/`, `?`, `%`, `..` or such.
_SAFE_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class _KeySet:
    """The keys last fetched from one JWKS address, and when a fetch was last attempted."""

    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    attempted: float | None = None
    fetching: threading.Event | None = None


class OidcVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str,
        tenant_claim: str = "tid",
        leeway_seconds: int = 60,
        refresh_seconds: int = 300,
        is_known_tenant: Callable[[str], bool] | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.claim = tenant_claim
        self.leeway_seconds = leeway_seconds
        self.refresh_seconds = refresh_seconds
        # Checked before any key is fetched, so that forged tokens naming random tenants
        # cannot make the service call the issuer for each of them.
        self._is_known_tenant = is_known_tenant
        self._lock = threading.Lock()
        self._key_sets: dict[str, _KeySet] = {}

    def tenant_claim(self, token: str) -> str:
        """Verify the token (RS256 signature, issuer, audience, lifetime) and return its tenant
        claim; raise ``InvalidToken`` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(f"malformed token: {error}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no key id (`kid`) in the token's header")
        tenant = self._tenant(unverified)
        if self._is_known_tenant is not None and not self._is_known_tenant(tenant):
            raise InvalidToken(f"`{self.claim}` names no tenant of this service")
        key = self._key(self.jwks_url.replace("{tid}", tenant), kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer.replace("{tid}", tenant),
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud", self.claim]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(f"token refused: {error}") from None
        if claims.get(self.claim) != tenant:  # the same payload; never expected to differ
            raise InvalidToken("tenant claim changed between reads")
        return tenant

    def _tenant(self, payload: Mapping[str, Any]) -> str:
        tenant = payload.get(self.claim)
        if not isinstance(tenant, str) or not tenant:
            raise InvalidToken(f"no `{self.claim}` claim (a non-empty string) in the token")
        if "{tid}" in self.jwks_url and not _SAFE_TENANT.fullmatch(tenant):
            raise InvalidToken(f"`{self.claim}` claim has characters not allowed in an address")
        return tenant

    def _key(self, url: str, kid: str) -> jwt.PyJWK:
        """The key `kid` of the set at `url`: cached, or fetched if the interval allows it."""
        with self._lock:
            entry = self._key_sets.get(url)
            if entry is None:
                entry = self._key_sets[url] = _KeySet()
                self._evict()
            found = entry.keys.get(kid)
            if found is not None:
                return found
            waiting_for = entry.fetching
            if waiting_for is None:
                now = time.monotonic()
                if entry.attempted is not None and now - entry.attempted < self.refresh_seconds:
                    raise InvalidToken(f"unknown key id {kid!r}; key set fetched recently")
                entry.attempted = now
                entry.fetching = done = threading.Event()
        if waiting_for is not None:  # another request is fetching this set: use its answer
            waiting_for.wait(FETCH_TIMEOUT_SECONDS + 1)
        else:
            fetched: dict[str, jwt.PyJWK] | None = None
            try:
                fetched = _fetch(url)
            finally:
                with self._lock:
                    if fetched is not None:
                        entry.keys = fetched
                    entry.fetching = None
                done.set()
        with self._lock:
            found = entry.keys.get(kid)
        if found is None:
            raise InvalidToken(f"unknown key id {kid!r}")
        return found

    def _evict(self) -> None:
        """Keep at most MAX_KEY_SETS sets, dropping the oldest idle ones (lock held)."""
        excess = len(self._key_sets) - MAX_KEY_SETS
        for url in [url for url, entry in self._key_sets.items() if entry.fetching is None]:
            if excess <= 0:
                break
            del self._key_sets[url]
            excess -= 1


def _fetch(url: str) -> dict[str, jwt.PyJWK] | None:
    """The RS256 signing keys published at `url`, by key id; None (and a log line) on failure."""
    if not url.startswith(("https://", "http://")):
        log.warning("JWKS address %s is not http(s); not fetched", url)
        return None
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError(f"more than {MAX_JWKS_BYTES} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        key_set = jwt.PyJWKSet.from_dict(document)
    except (OSError, ValueError, jwt.PyJWTError) as error:  # URLError and timeouts are OSErrors
        log.warning("fetching the JWKS at %s failed, keeping the last good keys: %s", url, error)
        return None
    keys = {
        key.key_id: key
        for key in key_set.keys
        if isinstance(key.key_id, str)
        and key.key_id
        and key.key_type == "RSA"
        and key.algorithm_name == ALGORITHM
        and key.public_key_use in (None, "sig")
    }
    if not keys:
        log.warning("the JWKS at %s holds no RS256 signing key; keeping the last good keys", url)
        return None
    return keys
