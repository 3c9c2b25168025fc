"""The application factory: settings, keys, database, middleware, error handlers and routers."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from exchange_api import health
from exchange_api.agencies import directory as directory_endpoints
from exchange_api.agencies import endpoints as admin_endpoints
from exchange_api.alerts import endpoints as alert_endpoints
from exchange_api.alerts.retention import periodic_retention
from exchange_api.api_docs import install_api_docs
from exchange_api.assistance import endpoints as assistance_endpoints
from exchange_api.assistance.overdue import periodic_overdue_notices
from exchange_api.audit import endpoints as audit_endpoints
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.background import periodic_checkpoints
from exchange_api.audit.denials import install_denial_recording
from exchange_api.audit.sequencer import AuditSequencer
from exchange_api.auth import endpoints as oauth_endpoints
from exchange_api.auth.errors import InsufficientScope, Unauthenticated
from exchange_api.auth.resource import current_caller
from exchange_api.auth.scopes import Scope, require_scope
from exchange_api.auth.server import OAuthServer
from exchange_api.auth.token_states import TokenStates
from exchange_api.config import Settings
from exchange_api.crypto import load_key_material
from exchange_api.crypto.providers import open_keyring
from exchange_api.db import create_db_engine, head_revision, make_session_factory
from exchange_api.errors import InvalidParameter, install_error_handlers, responses
from exchange_api.events import endpoints as event_endpoints
from exchange_api.events.hub import FeedHub
from exchange_api.events.sequencer import EventSequencer
from exchange_api.events.webhooks import WebhookDispatcher
from exchange_api.followups import endpoints as followup_endpoints
from exchange_api.http_protocol import SERVER_SHUTDOWN_HOOK
from exchange_api.key_check import KeyCheck
from exchange_api.kit.clock import Clock
from exchange_api.kit.failures import FailureLog
from exchange_api.kit.rate_limits import AddressRateLimitMiddleware, RateLimited, RateLimiter
from exchange_api.logs import configure_logging
from exchange_api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from exchange_api.outage import install_outage_handling
from exchange_api.problem_docs import document_problems
from exchange_api.production import refuse_demo_clients
from exchange_api.reference import endpoints as reference_endpoints
from exchange_api.statistics import endpoints as statistics_endpoints

__all__ = ["build_v1_router", "create_app"]

_log = logging.getLogger(__name__)

API_TITLE = "Precursor alert exchange"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "The exchange through which law-enforcement and customs services, precursor regulators, "
    "prosecutors and chemical companies share alerts about suspicious consignments of "
    "drug-precursor chemicals. Errors are RFC 9457 problem+json."
)


def build_v1_router() -> APIRouter:
    """The versioned API. Every route under it requires an authenticated caller: the router as a
    whole depends on ``current_caller``, so a new endpoint cannot forget it; each endpoint (or
    included router) then requires its scope. Each domain's router is included here."""
    v1 = APIRouter(
        prefix="/v1",
        dependencies=[Depends(current_caller)],
        responses=responses(
            InvalidParameter.response(
                "A path, query or header parameter is invalid or unknown (invalid-parameter, "
                "unknown-query-parameter, invalid-cursor, purpose-required), or the body is not "
                "JSON (malformed-json); `errors` says where, never the value."
            ),
            Unauthenticated.response("No valid access token (WWW-Authenticate)."),
            InsufficientScope.response("The token lacks the scope needed."),
            RateLimited.response("Rate limited (rate-limited): see Retry-After and RateLimit."),
        ),
    )
    v1.include_router(
        reference_endpoints.router, dependencies=[Depends(require_scope(Scope.ALERTS_READ))]
    )
    v1.include_router(alert_endpoints.router)
    v1.include_router(followup_endpoints.router)
    v1.include_router(admin_endpoints.router)
    v1.include_router(directory_endpoints.router)
    v1.include_router(assistance_endpoints.router)
    v1.include_router(audit_endpoints.router)
    v1.include_router(event_endpoints.router)
    v1.include_router(statistics_endpoints.router)
    return v1


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Fails at once, before serving, if the keys cannot be loaded."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    keys = load_key_material(settings.keys_dir)
    engine = create_db_engine(settings)
    session_factory = make_session_factory(engine)
    if settings.is_production:
        try:
            refuse_demo_clients(session_factory)
        finally:
            engine.dispose()  # no connection left over from the check, whatever it found
    audit_log = AuditLog.from_settings(settings, keys)
    keyring = open_keyring(settings, keys)
    key_check = KeyCheck(session_factory, keys, keyring, settings.keys_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Callable[[], None]]]:
        await run_in_threadpool(_check_keys_at_start, key_check)
        await run_in_threadpool(app.state.token_states.listen)
        sequencer = AuditSequencer(audit_log, session_factory)
        event_hub: FeedHub = app.state.event_hub
        dispatcher = WebhookDispatcher(
            session_factory,
            app.state.keyring,
            audit_log,
            allowed_hosts=settings.webhook_allowed_hosts,
            tls=settings.webhook_tls(),
            first_retry=settings.webhook_first_retry,
        )

        def sequenced(head: int) -> None:
            event_hub.advance(head)
            dispatcher.wake()

        async with (
            sequencer.running(),
            event_hub.running(),
            dispatcher.running(),
            EventSequencer(session_factory, on_head=sequenced).running(),
            periodic_checkpoints(audit_log, session_factory),
            periodic_overdue_notices(
                session_factory, app.state.clock, interval=settings.overdue_interval
            ),
            periodic_retention(
                session_factory,
                audit_log,
                interval=settings.retention_interval,
                idempotency_kept=timedelta(days=settings.idempotency_key_days),
            ),
        ):
            # Everything alive now (modules, schemas, compiled statements) lives as long as the
            # worker: keep it out of the collector's full passes, which otherwise walk it again
            # and again under load (measured: ~10% of a 500-alert batch's CPU).
            gc.freeze()
            # The server calls this when it starts shutting down, before it waits for open
            # connections: streams end then, instead of holding the shutdown.
            yield {SERVER_SHUTDOWN_HOOK: event_hub.close}
        app.state.token_states.close()
        engine.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # Local assets (api_docs.py), not a CDN; no ReDoc.
        docs_url=None,
        redoc_url=None,
        # A redirect to the slash-less path would be built from the Host header: 404 instead.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.clock = Clock()
    app.state.keys = keys
    app.state.keyring = keyring
    app.state.key_check = key_check
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.audit_log = audit_log
    app.state.event_hub = FeedHub(engine)
    app.state.oauth = OAuthServer.from_settings(settings, app.state.session_factory)
    app.state.token_states = TokenStates.for_database(settings.database)
    app.state.migration_head = head_revision(settings.database_url)
    app.state.failure_log = FailureLog(logging.getLogger("exchange_api.failures"))
    app.state.rate_limiter = RateLimiter.from_settings(settings, app.state.failure_log)

    install_error_handlers(app)
    install_denial_recording(app)
    install_outage_handling(app)
    app.include_router(health.router)
    app.include_router(oauth_endpoints.router)
    app.include_router(build_v1_router())
    document_problems(app)
    if not settings.is_production:
        install_api_docs(app)
    # Outermost last: the request id must wrap everything, including a 413 and a 429.
    app.add_middleware(AddressRateLimitMiddleware, limiter=app.state.rate_limiter)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def _check_keys_at_start(key_check: KeyCheck) -> None:
    """Check the keys against the database, storing its check values if it has none yet. A
    mismatch, or a database not reachable yet, leaves the service not ready (``/readyz`` says
    why and checks again)."""
    try:
        problem = key_check.problem()
    except SQLAlchemyError as exc:
        _log.warning("keys not checked: the database cannot be reached (%s)", type(exc).__name__)
        return
    if problem is not None:
        _log.error("the keys do not match the database: %s", problem)
