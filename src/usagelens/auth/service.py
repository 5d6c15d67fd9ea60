"""Recognising the caller from the request's headers."""

from dataclasses import dataclass

from usagelens.auth import keys
from usagelens.auth.models import ApiKey, Principal
from usagelens.storage.base import Backend


@dataclass(frozen=True)
class AuthFailure:
    message: str


class KeyAuthenticator:
    """Looks keys up by digest; a revoked or unknown key is refused the same way."""

    def __init__(self, backend: Backend, prefix: str) -> None:
        self._backend = backend
        self._prefix = prefix

    def credential(self, authorization: str | None, x_api_key: str | None) -> str | None:
        if x_api_key:
            return x_api_key.strip()
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        return None

    def authenticate(
        self, authorization: str | None, x_api_key: str | None
    ) -> Principal | AuthFailure:
        token = self.credential(authorization, x_api_key)
        if token is None:
            return AuthFailure(
                "missing credentials: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            )
        if not keys.looks_like_key(token, self._prefix):
            return AuthFailure("invalid API key")
        stored = self._backend.key_by_hash(keys.digest(token))
        if (
            stored is None
            or stored.revoked_at is not None
            or not keys.matches(token, stored.key_hash)
        ):
            return AuthFailure("invalid API key")
        return _principal(stored)


def _principal(key: ApiKey) -> Principal:
    return Principal(kind=key.kind, tenant_id=key.tenant_id, key_id=key.key_id)
