"""The event sequencer: gives produced events their ``seq`` in commit order.

Why a sequencer (docs/decisions/0015): an auto-incremented id is handed out when a transaction
*inserts*, not when it commits. Two requests take ids 7 and 8; 8 commits first; a reader that
reads 8 and moves its cursor past it would never see 7. So producers only write the intake
(:mod:`.outbox`), and the sequencer, under the lock of the single ``event_head`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write lock), takes the intake rows committed so
far in id order, numbers them after the head, moves them to ``events``, and moves the head, in
one transaction. A row committed later is taken by a later pass and gets a larger seq: seqs are
given in the order events become visible, and readers read only ``seq <= head`` — all committed.

The same pass matches the new events against the watch lists (:mod:`.matching`) and queues
their webhook deliveries (:mod:`.deliveries`), so producers pay one INSERT and nothing more.

Each worker runs one sequencer (:meth:`EventSequencer.running`, the loop of
:class:`~exchange_api.kit.commit_woken.CommitWokenLoop`). A commit that produced events wakes it
at once (an ``after_commit`` listener: the feed's latency is this pass, a few ms); it
also looks every second in case another worker or machine stopped before sequencing its own.
After each pass it tells the worker's :class:`~.hub.FeedHub` the new head, which wakes this
worker's long-polls and streams; other workers' hubs see the head move by polling it. Every hour
it forgets events older than 30 days (with their matches and deliveries); cursors older than
that are then expired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel

from exchange_api.bulk import insert_rows, take_oldest
from exchange_api.events.deliveries import queue_deliveries
from exchange_api.events.matching import insert_matches
from exchange_api.events.outbox import PRODUCED
from exchange_api.kit.commit_woken import CommitWokenLoop
from exchange_api.models.events import (
    EventHead,
    EventIntakeRecord,
    EventMatch,
    EventRecord,
    WebhookDelivery,
)
from exchange_api.models.types import utc_now

__all__ = ["EVENTS_KEPT", "EventSequencer", "purge_events", "sequence_intake"]

logger = logging.getLogger("exchange_api.events")

EVENTS_KEPT = timedelta(days=30)
SEQUENCE_BATCH = 2000
_PURGE_BATCH = 5000
_HEAD_ID = 1
_HEAD = SQLModel.metadata.tables[EventHead.__tablename__]
_INTAKE = SQLModel.metadata.tables[EventIntakeRecord.__tablename__]
_EVENTS = SQLModel.metadata.tables[EventRecord.__tablename__]
_MATCHES = SQLModel.metadata.tables[EventMatch.__tablename__]
_DELIVERIES = SQLModel.metadata.tables[WebhookDelivery.__tablename__]
_LOCK_HEAD = select(_HEAD.c.seq).where(_HEAD.c.id == _HEAD_ID).with_for_update()
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(seq=bindparam("seq"))
_FIELDS = tuple(column.name for column in _INTAKE.c if column.name != "id")


def sequence_intake(session: Session, *, limit: int = SEQUENCE_BATCH) -> tuple[int, int]:
    """Sequence up to ``limit`` intake rows in ``session``'s transaction; return
    ``(count, head)``. The head is locked before the intake is read, so a sequencer that waited
    for another's lock finds what that one took gone."""
    connection = session.connection()
    head: int = connection.execute(_LOCK_HEAD).scalar_one()
    taken = take_oldest(connection, _INTAKE, limit)
    if not taken:
        return 0, head
    rows = sorted(taken, key=lambda row: int(row.id))
    first, last = head + 1, head + len(rows)
    insert_rows(
        connection,
        _EVENTS,
        [
            {"seq": seq, **{name: getattr(row, name) for name in _FIELDS}}
            for seq, row in enumerate(rows, start=first)
        ],
    )
    insert_matches(connection, first, last)
    queue_deliveries(connection, first, last, utc_now())
    connection.execute(_MOVE_HEAD, {"seq": last})
    return len(rows), last


def drain(session_factory: sessionmaker[Session]) -> int:
    """Sequence the whole intake, a batch per transaction; return the head."""
    while True:
        with session_factory.begin() as session:
            count, head = sequence_intake(session)
        if count < SEQUENCE_BATCH:
            return head


def purge_events(session: Session, before: datetime) -> int:
    """Forget up to a batch of events older than ``before`` (their matches and deliveries
    too); return how many. Cursors at or before the newest one forgotten are then expired."""
    connection = session.connection()
    newest = connection.execute(
        select(func.max(_EVENTS.c.seq)).where(
            _EVENTS.c.seq.in_(
                select(_EVENTS.c.seq)
                .where(_EVENTS.c.at < before)
                .order_by(_EVENTS.c.seq)
                .limit(_PURGE_BATCH)
                .scalar_subquery()
            )
        )
    ).scalar_one_or_none()
    if newest is None:
        return 0
    connection.execute(_LOCK_HEAD)
    connection.execute(delete(_DELIVERIES).where(_DELIVERIES.c.seq <= newest))
    connection.execute(delete(_MATCHES).where(_MATCHES.c.seq <= newest))
    removed = connection.execute(delete(_EVENTS).where(_EVENTS.c.seq <= newest)).rowcount
    connection.execute(
        update(_HEAD)
        .where(_HEAD.c.id == _HEAD_ID, _HEAD.c.purged_through < newest)
        .values(purged_through=newest)
    )
    return int(removed)


class EventSequencer(CommitWokenLoop):
    """One worker's sequencer (see the module)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        on_head: Callable[[int], None],
        idle: float = 1.0,
        purge_every: float = 3600.0,
    ) -> None:
        super().__init__(session_factory, flag=PRODUCED, name="event-sequencer", idle=idle)
        self._on_head = on_head
        self._purge_every = purge_every
        self._next_purge = 0.0

    async def _pass(self) -> None:
        head = await self.deferrable(
            lambda: drain(self._session_factory),
            logger,
            deferred="event sequencing deferred",
            action="event.sequence",
        )
        if head is not None:
            self._on_head(head)

    async def _after_pass(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_purge or self._stopping:
            return
        self._next_purge = now + self._purge_every
        removed = await self.deferrable(
            self._purge, logger, deferred="event purge deferred", action="event.purge"
        )
        if removed:
            logger.info(
                "events forgotten", extra={"event": {"action": "event.purge", "count": removed}}
            )

    def _purge(self) -> int:
        removed = 0
        while True:
            with self._session_factory.begin() as session:
                count = purge_events(session, utc_now() - EVENTS_KEPT)
            removed += count
            if count < _PURGE_BATCH:
                return removed
