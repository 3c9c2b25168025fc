"""Retention: an alert past its review date is crypto-shredded (DESIGN §5).

``exchange-api retention run`` (daily, from cron or a systemd timer) takes every alert whose
``review_by`` is before today (UTC) and, batch by batch in transactions of their own:

- sets its wrapped DEK and every sealed field group to NULL. The DEK existed nowhere else, so the
  sensitive fields are gone for good, from this database and from the alert's meaning in any
  backup once the backups age out (a backup still holds the wrapped DEK: that is what backup
  retention is for);
- deletes its blind-index tags: a keyed hash of a person's name is still that person's data, and
  links must not keep tying a shredded alert to new ones;
- stamps ``shredded_at``, and records the batch in the audit log (``alert.shred``).

Routing facts (type, status, dates, substances, route, distribution) and their search indexes
stay, for statistics: the alert is still found by search, with its summary. Reading, changing
or linking it is 410 ``alert-shredded`` (:class:`~.errors.AlertShredded`). An alert whose review
date its agency moved later (PATCH) before the run is not touched.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel

from exchange_api.alerts.sealing import sealed_column
from exchange_api.alerts.vocabulary import FIELD_GROUPS
from exchange_api.audit.operator import BatchRecorder
from exchange_api.models.alerts import Alert, AlertTag
from exchange_api.models.types import utc_now

__all__ = ["shred_expired"]

_ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
_TAGS = SQLModel.metadata.tables[AlertTag.__tablename__]


def shred_expired(
    session_factory: sessionmaker[Session],
    *,
    today: date,
    record: BatchRecorder,
    batch_size: int = 500,
) -> int:
    """Shred every alert whose review date is before ``today``; return how many."""
    shredded = 0
    while True:
        with session_factory.begin() as session:
            connection = session.connection()
            ids: list[uuid.UUID] = list(connection.scalars(_due(today, batch_size)))
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
        shredded += len(ids)
        if len(ids) < batch_size:
            return shredded


def _due(today: date, limit: int) -> Select[tuple[uuid.UUID]]:
    """The next ``limit`` alerts due, locked (PostgreSQL re-checks ``review_by`` after waiting
    for a change in progress, so an alert whose date was just moved later is skipped)."""
    return (
        select(_ALERTS.c.id)
        .where(_ALERTS.c.review_by < today, _ALERTS.c.shredded_at.is_(None))
        .order_by(_ALERTS.c.id)
        .limit(limit)
        .with_for_update()
    )
