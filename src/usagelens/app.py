"""The ASGI application: every API family on one FastAPI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from usagelens import __version__
from usagelens.auth.service import Authenticator
from usagelens.directory.endpoints import router as directory_router
from usagelens.health.endpoints import router as health_router
from usagelens.ingest.endpoints import router as ingest_router
from usagelens.ingest.writer import GroupCommitWriter
from usagelens.settings import Settings
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.tenants.endpoints import router as admin_router
from usagelens.web.errors import install_error_handlers
from usagelens.web.request_id import RequestIdMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = DuckDBBackend(settings.db)
        writer = GroupCommitWriter(backend)
        writer.start()
        app.state.settings = settings
        app.state.backend = backend
        app.state.writer = writer
        app.state.authenticator = Authenticator(backend, settings.key_prefix)
        try:
            yield
        finally:
            writer.stop()
            backend.close()

    app = FastAPI(
        title="usagelens",
        version=__version__,
        description="Usage analytics and metering for AI agents, bots, voice and messaging.",
        lifespan=lifespan,
    )
    for router in (health_router, ingest_router, directory_router, admin_router):
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    return app
