"""The webhook delivery queue and log: every statement on ``webhook_deliveries``.

A delivery is ``pending`` until it is ``delivered`` (a 2xx), ``refused`` (the watch list's agency
may no longer see the event: nothing is sent) or ``expired`` (24 hours of failures: the watch list
is then ``failing`` and its pending deliveries wait for ``resume``). A worker *claims* due
deliveries by pushing their ``next_attempt_at`` past the longest an attempt can take (a lease),
in a short transaction that locks them with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that
any number of workers share the queue without sending one delivery twice at once, and without
holding a connection or a lock while they wait on the network. A worker killed after its claim
leaves the lease to run out: the delivery is claimed again and sent (at least once).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, literal, select, update
from sqlmodel import Session, SQLModel

from exchange_api.models.events import EventMatch, Subscription, WebhookDelivery

__all__ = [
    "Attempt",
    "Claimed",
    "claim_due",
    "queue_deliveries",
    "record_attempts",
]

_DELIVERIES = SQLModel.metadata.tables[WebhookDelivery.__tablename__]
_MATCHES = SQLModel.metadata.tables[EventMatch.__tablename__]
_SUBSCRIPTIONS = SQLModel.metadata.tables[Subscription.__tablename__]


def _queue_deliveries() -> Any:
    matches = _MATCHES.c
    now = bindparam("now", type_=_DELIVERIES.c.created_at.type)
    chosen = (
        select(matches.subscription_id, matches.seq, literal("pending"), literal(0), now, now)
        .join_from(_MATCHES, _SUBSCRIPTIONS, _SUBSCRIPTIONS.c.id == matches.subscription_id)
        .where(
            matches.seq.between(bindparam("first"), bindparam("last")),
            _SUBSCRIPTIONS.c.webhook_url.is_not(None),
        )
    )
    return insert(_DELIVERIES).from_select(
        ["subscription_id", "seq", "state", "attempts", "created_at", "next_attempt_at"],
        chosen,
    )


_QUEUE_DELIVERIES = _queue_deliveries()  # built once: the sequencer runs it every pass


def queue_deliveries(connection: Any, first: int, last: int, now: datetime) -> None:
    """Queue the events ``first``..``last`` for each webhook whose watch list they matched."""
    connection.execute(_QUEUE_DELIVERIES, {"first": first, "last": last, "now": now})


@dataclass(frozen=True, slots=True)
class Claimed:
    subscription_id: uuid.UUID
    seq: int
    attempts: int
    created_at: datetime


_THIS_DELIVERY = and_(
    _DELIVERIES.c.subscription_id == bindparam("delivery_subscription"),
    _DELIVERIES.c.seq == bindparam("delivery_seq"),
)
_LEASE = (
    update(_DELIVERIES)
    .where(_THIS_DELIVERY)
    .values(
        attempts=bindparam("new_attempts"),
        next_attempt_at=bindparam("lease_until", type_=_DELIVERIES.c.next_attempt_at.type),
        last_attempt_at=bindparam("attempted_at", type_=_DELIVERIES.c.last_attempt_at.type),
    )
)
_OUTCOME = (
    update(_DELIVERIES)
    .where(_THIS_DELIVERY)
    .values(
        state=bindparam("new_state"),
        last_status=bindparam("status"),
        last_error=bindparam("error"),
        next_attempt_at=bindparam("next_at", type_=_DELIVERIES.c.next_attempt_at.type),
        delivered_at=bindparam("delivered", type_=_DELIVERIES.c.delivered_at.type),
    )
)


def claim_due(session: Session, now: datetime, *, lease: timedelta, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of active watch lists until ``now + lease``."""
    d = _DELIVERIES.c
    due = (
        select(d.subscription_id, d.seq, d.attempts, d.created_at)
        .join_from(_DELIVERIES, _SUBSCRIPTIONS, _SUBSCRIPTIONS.c.id == d.subscription_id)
        .where(d.state == "pending", d.next_attempt_at <= now, _SUBSCRIPTIONS.c.state == "active")
        .order_by(d.next_attempt_at)
        .limit(limit)
        .with_for_update(of=_DELIVERIES, skip_locked=True)
    )
    connection = session.connection()
    rows = connection.execute(due).all()
    claimed = [Claimed(row[0], row[1], row[2] + 1, row[3]) for row in rows]
    if claimed:
        connection.execute(
            _LEASE,
            [
                {
                    "delivery_subscription": item.subscription_id,
                    "delivery_seq": item.seq,
                    "new_attempts": item.attempts,
                    "lease_until": now + lease,
                    "attempted_at": now,
                }
                for item in claimed
            ],
        )
    return claimed


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one attempt (the log) and what happens next (the queue)."""

    item: Claimed
    state: str
    status: int | None
    error: str | None
    next_attempt_at: datetime


def record_attempts(session: Session, attempts: Sequence[Attempt], now: datetime) -> None:
    """Write the outcomes of ``attempts`` (one statement, executed for each)."""
    if not attempts:
        return
    session.connection().execute(
        _OUTCOME,
        [
            {
                "delivery_subscription": attempt.item.subscription_id,
                "delivery_seq": attempt.item.seq,
                "new_state": attempt.state,
                "status": attempt.status,
                "error": attempt.error,
                "next_at": attempt.next_attempt_at,
                "delivered": now if attempt.state == "delivered" else None,
            }
            for attempt in attempts
        ],
    )
