"""Recognising the caller from the request's headers."""

from dataclasses import dataclass

from usagelens.auth import keys
from usagelens.auth.models import ApiKey, Principal
from usagelens.auth.tokens import InvalidToken, TokenVerifier
from usagelens.storage.base import Backend


@dataclass(frozen=True)
class AuthFailure:
    message: str


_MAX_CACHED_KEYS = 10_000


class Authenticator:
    """API keys are looked up by digest (a revoked or unknown key is refused the same way);
    access tokens, where accepted, are verified and their tenant claim mapped to a tenant."""

    def __init__(
        self, backend: Backend, prefix: str, token_verifier: TokenVerifier | None = None
    ) -> None:
        self._backend = backend
        # Active keys already seen, by digest: a request then costs no database read. Only this
        # process writes the file while it serves, so `forget_keys` after a revocation keeps it
        # exact; unknown digests are never cached, so a new key works at once.
        self._active: dict[str, ApiKey] = {}
        self._prefix = prefix
        self._token_verifier = token_verifier

    def credential(self, authorization: str | None, x_api_key: str | None) -> str | None:
        if x_api_key:
            return x_api_key.strip()
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        return None

    def authenticate(
        self, authorization: str | None, x_api_key: str | None, accept_tokens: bool = False
    ) -> Principal | AuthFailure:
        token = self.credential(authorization, x_api_key)
        if token is None:
            return AuthFailure(
                "missing credentials: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            )
        if not keys.looks_like_key(token, self._prefix):
            if accept_tokens and self._token_verifier is not None and not x_api_key:
                return self._from_token(token)
            return AuthFailure("invalid API key")
        digest = keys.digest(token)
        stored = self._active.get(digest) or self._backend.key_by_hash(digest)
        if (
            stored is None
            or stored.revoked_at is not None
            or not keys.matches(token, stored.key_hash)
        ):
            return AuthFailure("invalid API key")
        if len(self._active) < _MAX_CACHED_KEYS:
            self._active[digest] = stored
        return _principal(stored)

    def forget_keys(self) -> None:
        """Drop the cached keys: called after any key is revoked."""
        self._active.clear()

    def _from_token(self, token: str) -> Principal | AuthFailure:
        assert self._token_verifier is not None
        try:
            claim = self._token_verifier.tenant_claim(token)
        except InvalidToken:
            return AuthFailure("invalid access token")
        tenant = self._backend.tenant_by_entra_id(claim)
        if tenant is None:
            return AuthFailure("invalid access token")
        return Principal(kind="tenant", tenant_id=tenant.tenant_id, key_id=None)


def _principal(key: ApiKey) -> Principal:
    return Principal(kind=key.kind, tenant_id=key.tenant_id, key_id=key.key_id)
