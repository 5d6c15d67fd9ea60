"""A real server that accepts dashboard users' access tokens, signed by a loopback issuer."""

from pathlib import Path

import pytest

from tests.auth.test_oidc import AUDIENCE, Issuer
from tests.service import Server


def serve_with_tokens(db: Path, issuer: Issuer) -> Server:
    """A server on ``db`` configured by `USAGELENS_OIDC_*` to accept ``issuer``'s tokens."""
    with pytest.MonkeyPatch.context() as patch:  # the server inherits the environment
        patch.setenv("USAGELENS_OIDC_ISSUER", issuer.issuer_template)
        patch.setenv("USAGELENS_OIDC_AUDIENCE", AUDIENCE)
        patch.setenv("USAGELENS_OIDC_JWKS_URL", issuer.jwks_template)
        return Server(db).start()
