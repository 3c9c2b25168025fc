"""Retention: an alert past its review date is crypto-shredded (docs/decisions/0008).

Every worker of the service makes a pass at start and every ``EXCHANGE_RETENTION_INTERVAL``
seconds (an hour; :func:`periodic_retention`), and ``exchange-api retention run`` makes one on
demand (or from cron, with the interval set to 0). A pass takes every alert whose ``review_by``
is before today (UTC) and, batch by batch in transactions of their own:

- sets its wrapped DEK and every sealed field group to NULL. The DEK existed nowhere else, so the
  sensitive fields are gone for good, from this database and from the alert's meaning in any
  backup once the backups age out (a backup still holds the wrapped DEK: that is what backup
  retention is for);
- sets the sealed texts of its follow-ups to NULL (they were sealed under the same DEK, so
  they could no longer be opened anyway); their routing facts stay, like the alert's;
- sets the sealed message and reply of every request about it to NULL (``assistance``): they
  were sealed under the same DEK, and a NULL says plainly that they are gone;
- deletes its blind-index tags: a keyed hash of a person's name is still that person's data, and
  links must not keep tying a shredded alert to new ones;
- stamps ``shredded_at``, and records the batch in the audit log (``alert.shred``, by
  ``service:retention`` or by the operator who ran the command).

A pass also forgets the ``Idempotency-Key`` rows older than ``EXCHANGE_IDEMPOTENCY_KEY_DAYS``
(:meth:`~.jobs_repository.AlertJobsRepository.forget_idempotency_keys`).

Workers passing at the same time take turns on the rows (``FOR UPDATE``); the second finds them
shredded and moves on.

Routing facts (type, status, dates, substances, route, distribution) and their search indexes
stay, for statistics: the alert is still found by search, with its summary. Reading, changing
or linking it is 410 ``alert-shredded`` (:class:`~.errors.AlertShredded`). An alert whose review
date its agency moved later (PATCH) before the run is not touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.alerts.jobs_repository import AlertJobsRepository
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.operator import BatchRecorder, OperatorRecorder
from exchange_api.events.outbox import EventType, record_events
from exchange_api.models.types import utc_now
from exchange_api.tasks import background_task

__all__ = ["SERVICE_ACTOR", "RetentionOutcome", "periodic_retention", "retention_pass"]

SERVICE_ACTOR = "service:retention"
"""The actor of the audit entries of the service's own passes."""

logger = logging.getLogger("exchange_api.alerts")

SHRED_BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionOutcome:
    shredded: int
    keys_forgotten: int


def retention_pass(
    session_factory: sessionmaker[Session],
    *,
    today: date,
    record: BatchRecorder,
    idempotency_kept: timedelta,
    stop: Callable[[], bool] = lambda: False,
) -> RetentionOutcome:
    """Shred what is due, a batch per transaction (each recorded by ``record``), then forget
    expired keys. ``stop`` is asked between batches: a worker shutting down does not wait for
    a long first pass, and the next pass takes what is left."""
    shredded = 0
    while not stop():
        with session_factory.begin() as session:
            count = _shred_batch(session, today, record)
        shredded += count
        if count < SHRED_BATCH:
            break
    with session_factory.begin() as session:
        forgotten = AlertJobsRepository(session).forget_idempotency_keys(
            utc_now() - idempotency_kept
        )
    return RetentionOutcome(shredded, forgotten)


def _shred_batch(session: Session, today: date, record: BatchRecorder) -> int:
    repository = AlertJobsRepository(session)
    ids = repository.lock_due(today, SHRED_BATCH)
    if ids:
        repository.shred(ids, utc_now())
        record_events(session, EventType.ALERT_SHREDDED, ids)
        record(session, [str(alert_id) for alert_id in ids])
    return len(ids)


@contextlib.asynccontextmanager
async def periodic_retention(
    session_factory: sessionmaker[Session],
    log: AuditLog,
    *,
    interval: float,
    idempotency_kept: timedelta,
) -> AsyncIterator[None]:
    """Pass at start and every ``interval`` seconds while the block lasts (the app's lifespan);
    never if ``interval`` is 0."""
    if interval <= 0:
        yield
        return
    job = _run(session_factory, log, interval, idempotency_kept)
    async with background_task(job, name="alert-retention"):
        yield


async def _run(
    session_factory: sessionmaker[Session],
    log: AuditLog,
    interval: float,
    idempotency_kept: timedelta,
) -> None:
    stopping = threading.Event()
    try:
        while True:
            await _pass(session_factory, log, idempotency_kept, stopping)
            await asyncio.sleep(interval)
    finally:
        stopping.set()  # a pass still running in its thread ends after its current batch


async def _pass(
    session_factory: sessionmaker[Session],
    log: AuditLog,
    idempotency_kept: timedelta,
    stopping: threading.Event,
) -> None:
    record = OperatorRecorder(log, actor=SERVICE_ACTOR).batches(AuditAction.ALERT_SHRED)
    try:
        outcome = await run_in_threadpool(
            retention_pass,
            session_factory,
            today=utc_now().date(),
            record=record,
            idempotency_kept=idempotency_kept,
            stop=stopping.is_set,
        )
    except SQLAlchemyError as exc:
        # The database away: nothing was half done (each batch is one transaction).
        logger.warning(
            "retention pass failed",
            extra={"event": {"action": "alert.shred", "error": type(exc).__name__}},
        )
        return
    if outcome.shredded:
        event = {"action": "alert.shred", "count": outcome.shredded}
        logger.info("alerts shredded", extra={"event": event})
