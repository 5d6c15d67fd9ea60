"""The ASGI application: every API family on one FastAPI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from usagelens import __version__
from usagelens.analytics.endpoints import router as analytics_router
from usagelens.auth.oidc import OidcVerifier
from usagelens.auth.service import Authenticator
from usagelens.dashboard.endpoints import router as dashboard_router
from usagelens.directory.endpoints import router as directory_router
from usagelens.health.endpoints import router as health_router
from usagelens.ingest.decoding import Limits, RequestDecoder
from usagelens.ingest.endpoints import router as ingest_router
from usagelens.ingest.writer import GroupCommitWriter
from usagelens.mau.charge_endpoints import router as charge_router
from usagelens.mau.endpoints import router as mau_router
from usagelens.pricing.endpoints import router as pricing_router
from usagelens.settings import Settings
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.tenants.endpoints import router as admin_router
from usagelens.usage.endpoints import router as usage_router
from usagelens.web.errors import install_error_handlers
from usagelens.web.request_id import RequestIdMiddleware


def token_verifier(settings: Settings, backend: DuckDBBackend) -> OidcVerifier | None:
    """Dashboard users' access tokens are accepted once issuer, audience and JWKS are set."""
    if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url):
        return None
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url,
        tenant_claim=settings.oidc_tenant_claim,
        leeway_seconds=settings.oidc_leeway_seconds,
        refresh_seconds=settings.oidc_jwks_refresh_seconds,
        is_known_tenant=lambda tenant: backend.tenant_by_entra_id(tenant) is not None,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = DuckDBBackend(settings.db)
        if settings.duckdb_memory_limit is not None:
            backend.limit_memory(settings.duckdb_memory_limit)
        writer = GroupCommitWriter(backend)
        writer.start()
        limits = Limits(settings.max_batch_events, timedelta(seconds=settings.max_future_seconds))
        decoder = RequestDecoder(backend, limits, settings.decode_processes)
        decoder.start()
        app.state.settings = settings
        app.state.backend = backend
        app.state.writer = writer
        app.state.decoder = decoder
        app.state.authenticator = Authenticator(
            backend, settings.key_prefix, token_verifier(settings, backend)
        )
        try:
            yield
        finally:
            decoder.close()
            writer.stop()
            backend.close()

    app = FastAPI(
        title="usagelens",
        version=__version__,
        description="Usage analytics and metering for AI agents, bots, voice and messaging.",
        lifespan=lifespan,
    )
    routers = (
        health_router,
        ingest_router,
        directory_router,
        admin_router,
        pricing_router,
        analytics_router,
    )
    for router in (*routers, usage_router, mau_router, charge_router, dashboard_router):
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    return app
