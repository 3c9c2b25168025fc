"""Liveness and readiness, for orchestrators and load balancers (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from exchange_api.db import current_revision
from exchange_api.errors import ServiceUnavailable

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive. Says nothing about its dependencies."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready (problem+json)."}})
def readyz(request: Request) -> dict[str, str]:
    """Ready for traffic: the database answers, its schema is at the newest migration, and the
    keys loaded at start-up (a process whose keys fail to load does not start) are the ones the
    database was created with: a KEK that cannot unwrap its data keys, or another blind-index
    root, is named in the 503's detail."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("The database cannot be reached.", slug="not-ready") from exc
    head = request.app.state.migration_head
    if revision != head:
        raise ServiceUnavailable(
            f"The database schema is at {revision or 'no revision'}, not at head {head}.",
            slug="not-ready",
        )
    try:
        problem = request.app.state.key_check.problem()
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("The database cannot be reached.", slug="not-ready") from exc
    if problem is not None:
        detail = f"The keys do not match the database: {problem}."
        raise ServiceUnavailable(detail, slug="not-ready")
    return {"status": "ready", "schema": head}
