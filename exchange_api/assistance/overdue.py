"""``request.overdue``: the event that tells both agencies a request's deadline passed unanswered.

Overdue is derived (an open request past its ``due_by`` day, by the app's clock), so no request
makes it happen: each worker looks every ``EXCHANGE_OVERDUE_INTERVAL`` seconds (a minute by
default; 0 turns it off) for requests that became overdue and were not announced yet, and
produces one event for each, in the same transaction that marks it announced — so the event is
produced once, whichever worker finds it first (``SKIP LOCKED`` on PostgreSQL, SQLite's single
writer). An answer that arrives later produces ``request.answered`` as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.assistance.repository import AssistanceRepository
from exchange_api.events.outbox import EventType, record_event
from exchange_api.kit.clock import Clock
from exchange_api.tasks import background_task

__all__ = ["notice_overdue_requests", "periodic_overdue_notices"]

logger = logging.getLogger("exchange_api.assistance")

NOTICE_BATCH = 500


def notice_overdue_requests(session_factory: sessionmaker[Session], clock: Clock) -> int:
    """Produce ``request.overdue`` for every request that became overdue unannounced, a batch
    per transaction; return how many."""
    noticed = 0
    while True:
        with session_factory.begin() as session:
            repository = AssistanceRepository(session)
            due = repository.lock_newly_overdue(clock.today(), NOTICE_BATCH)
            for request in due:
                record_event(
                    session,
                    EventType.REQUEST_OVERDUE,
                    request.alert_id,
                    request_id=request.id,
                    only_agencies=(request.from_agency_id, request.to_agency_id),
                )
            if due:
                repository.mark_overdue_noticed([request.id for request in due], clock.now())
        noticed += len(due)
        if len(due) < NOTICE_BATCH:
            return noticed


@contextlib.asynccontextmanager
async def periodic_overdue_notices(
    session_factory: sessionmaker[Session], clock: Clock, *, interval: float
) -> AsyncIterator[None]:
    """Look at start and every ``interval`` seconds while the block lasts; never if 0."""
    if interval <= 0:
        yield
        return

    async def run() -> None:
        while True:
            try:
                await run_in_threadpool(notice_overdue_requests, session_factory, clock)
            except SQLAlchemyError as exc:  # the database away: the next look takes it up
                logger.warning(
                    "overdue notices deferred",
                    extra={"event": {"action": "request.overdue", "error": type(exc).__name__}},
                )
            await asyncio.sleep(interval)

    async with background_task(run(), name="request-overdue"):
        yield
