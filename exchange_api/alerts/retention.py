"""Retention: an alert past its review date is crypto-shredded (docs/decisions/0008).

Every worker of the service makes a pass at start and every ``EXCHANGE_RETENTION_INTERVAL``
seconds (an hour; :func:`periodic_retention`), and ``exchange-api retention run`` makes one on
demand (or from cron, with the interval set to 0). A pass takes every alert whose ``review_by``
is before today (UTC) and, batch by batch in transactions of their own:

- sets its wrapped DEK and every sealed field group to NULL. The DEK existed nowhere else, so the
  sensitive fields are gone for good, from this database and from the alert's meaning in any
  backup once the backups age out (a backup still holds the wrapped DEK: that is what backup
  retention is for);
- deletes its blind-index tags: a keyed hash of a person's name is still that person's data, and
  links must not keep tying a shredded alert to new ones;
- stamps ``shredded_at``, and records the batch in the audit log (``alert.shred``, by
  ``service:retention`` or by the operator who ran the command).

A pass also forgets the ``Idempotency-Key`` rows older than ``EXCHANGE_IDEMPOTENCY_KEY_DAYS``
(:func:`~.idempotency.purge_expired`).

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
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

from exchange_api.alerts.idempotency import purge_expired
from exchange_api.alerts.sealing import sealed_column
from exchange_api.alerts.vocabulary import FIELD_GROUPS
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.operator import BatchRecorder, OperatorRecorder
from exchange_api.models.alerts import Alert, AlertTag
from exchange_api.models.types import utc_now
from exchange_api.tasks import background_task

__all__ = ["SERVICE_ACTOR", "RetentionOutcome", "periodic_retention", "retention_pass"]

SERVICE_ACTOR = "service:retention"
"""The actor of the audit entries of the service's own passes."""

logger = logging.getLogger("exchange_api.alerts")

_ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
_TAGS = SQLModel.metadata.tables[AlertTag.__tablename__]
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
        forgotten = purge_expired(session, kept=idempotency_kept)
    return RetentionOutcome(shredded, forgotten)


def _shred_batch(session: Session, today: date, record: BatchRecorder) -> int:
    connection = session.connection()
    ids: list[uuid.UUID] = list(connection.scalars(_due(today)))
    if ids:
        connection.execute(
            update(_ALERTS)
            .where(_ALERTS.c.id.in_(ids))
            .values(
                wrapped_dek=None,
                shredded_at=utc_now(),
                **{sealed_column(group): None for group in FIELD_GROUPS},
            )
        )
        connection.execute(delete(_TAGS).where(_TAGS.c.alert_id.in_(ids)))
        record(session, [str(alert_id) for alert_id in ids])
    return len(ids)


def _due(today: date) -> Select[tuple[uuid.UUID]]:
    """The next batch of alerts due, locked, oldest review date first.

    ``ix_alerts_due`` holds only alerts not yet shredded, in this order, so a batch reads its
    own rows and no others. Locking in one order keeps concurrent passes from deadlocking, and
    PostgreSQL re-checks the conditions of a row it waited for: an alert whose review date a
    PATCH just moved later, or that another pass just shredded, is skipped."""
    return (
        select(_ALERTS.c.id)
        .where(_ALERTS.c.review_by < today, _ALERTS.c.shredded_at.is_(None))
        .order_by(_ALERTS.c.review_by, _ALERTS.c.id)
        .limit(SHRED_BATCH)
        .with_for_update()
    )


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
