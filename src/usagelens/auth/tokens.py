"""Access tokens of dashboard users (Microsoft Entra ID or any OIDC issuer)."""

from typing import Protocol


class InvalidToken(Exception):
    """The token is not one this service accepts; the message is for logs, never for callers."""


class TokenVerifier(Protocol):
    def tenant_claim(self, token: str) -> str:
        """Verify the token (signature, issuer, audience, lifetime) and return its tenant claim
        (Entra ID's `tid`); raise ``InvalidToken`` otherwise."""
        ...
