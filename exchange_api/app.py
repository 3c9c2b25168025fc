"""The application factory: settings, keys, database, middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from exchange_api import health
from exchange_api.config import Settings
from exchange_api.crypto import load_key_material
from exchange_api.db import create_db_engine, head_revision, make_session_factory
from exchange_api.errors import install_error_handlers
from exchange_api.logs import configure_logging
from exchange_api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware

__all__ = ["create_app"]

API_TITLE = "Precursor alert exchange"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "The exchange through which law-enforcement and customs services, precursor regulators, "
    "prosecutors and chemical companies share alerts about suspicious consignments of "
    "drug-precursor chemicals. Errors are RFC 9457 problem+json."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Fails at once, before serving, if the keys cannot be loaded."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    keys = load_key_material(settings.keys_dir)
    engine = create_db_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = keys
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.migration_head = head_revision(settings.database_url)

    install_error_handlers(app)
    app.include_router(health.router)
    # Outermost first: the request id must wrap everything, including a 413.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app
