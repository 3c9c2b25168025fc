"""The alerts domain's SQL for the service's own jobs: retention and the rewrap of data keys.

These queries are not scoped by a caller — they walk every alert — which is why they are kept
apart from :class:`~exchange_api.alerts.repository.AlertRepository`, whose every read is. No
endpoint reaches them: only the background retention pass and the ``exchange-api`` commands.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Row, bindparam, delete, func, select, update
from sqlmodel import Session, SQLModel

from exchange_api.alerts.sealing import sealed_column
from exchange_api.alerts.vocabulary import FIELD_GROUPS
from exchange_api.models.alerts import Alert, AlertTag, IdempotencyKey
from exchange_api.models.assistance import AssistanceRequest
from exchange_api.models.followups import FollowUp

__all__ = ["AlertJobsRepository"]

_ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
_TAGS = SQLModel.metadata.tables[AlertTag.__tablename__]
_KEYS = SQLModel.metadata.tables[IdempotencyKey.__tablename__]
_FOLLOWUPS = SQLModel.metadata.tables[FollowUp.__tablename__]
_REQUESTS = SQLModel.metadata.tables[AssistanceRequest.__tablename__]
_REWRAP = (
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("alert_id"), _ALERTS.c.kek_version == bindparam("old"))
    .values(kek_version=bindparam("new"), wrapped_dek=bindparam("blob"))
)


class AlertJobsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- retention --------------------------------------------------------------------------

    def lock_due(self, today: date, limit: int) -> list[uuid.UUID]:
        """The next ``limit`` alerts due for shredding, locked, oldest review date first.

        ``ix_alerts_due`` holds only alerts not yet shredded, in this order, so a batch reads its
        own rows and no others. Locking in one order keeps concurrent passes from deadlocking,
        and PostgreSQL re-checks the conditions of a row it waited for: an alert whose review
        date a PATCH just moved later, or that another pass just shredded, is skipped."""
        statement = (
            select(_ALERTS.c.id)
            .where(_ALERTS.c.review_by < today, _ALERTS.c.shredded_at.is_(None))
            .order_by(_ALERTS.c.review_by, _ALERTS.c.id)
            .limit(limit)
            .with_for_update()
        )
        return list(self.session.connection().scalars(statement))

    def shred(self, ids: Sequence[uuid.UUID], at: datetime) -> None:
        """Destroy the wrapped DEK, every sealed group, the sealed texts of the follow-ups and
        requests about them, and the blind-index tags of ``ids``."""
        connection = self.session.connection()
        connection.execute(
            update(_ALERTS)
            .where(_ALERTS.c.id.in_(ids))
            .values(
                wrapped_dek=None,
                shredded_at=at,
                **{sealed_column(group): None for group in FIELD_GROUPS},
            )
        )
        connection.execute(
            update(_FOLLOWUPS)
            .where(_FOLLOWUPS.c.alert_id.in_(ids))
            .values(sealed_summary=None, sealed_reference=None)
        )
        connection.execute(
            update(_REQUESTS)
            .where(_REQUESTS.c.alert_id.in_(ids))
            .values(sealed_message=None, sealed_reply=None)
        )
        connection.execute(delete(_TAGS).where(_TAGS.c.alert_id.in_(ids)))

    def forget_idempotency_keys(self, before: datetime) -> int:
        """Delete the ``Idempotency-Key`` rows created before ``before``; return how many."""
        result = self.session.connection().execute(delete(_KEYS).where(_KEYS.c.created_at < before))
        return int(result.rowcount)

    # --- rewrap -----------------------------------------------------------------------------

    def lock_wrapped_under_older(
        self, current: int, after: uuid.UUID | None, limit: int
    ) -> Sequence[Row[uuid.UUID, int, bytes]]:
        """The next ``limit`` alerts (id order, after ``after``) whose DEK is wrapped under a KEK
        older than ``current``, locked: ``id``, ``kek_version``, ``wrapped_dek``."""
        statement = select(_ALERTS.c.id, _ALERTS.c.kek_version, _ALERTS.c.wrapped_dek).where(
            _ALERTS.c.kek_version < current, _ALERTS.c.wrapped_dek.is_not(None)
        )
        if after is not None:
            statement = statement.where(_ALERTS.c.id > after)
        statement = statement.order_by(_ALERTS.c.id).limit(limit).with_for_update()
        return self.session.connection().execute(statement).all()

    def store_rewrapped(self, changes: Sequence[dict[str, object]]) -> None:
        """Write new wrapped DEKs: ``alert_id``, ``old`` and ``new`` KEK version, ``blob``."""
        self.session.connection().execute(_REWRAP, list(changes))

    def count_wrapped_under_others(self, current: int) -> dict[int, int]:
        """Alerts (not shredded) per KEK version other than ``current``: older ones left to
        rewrap, and newer ones a machine with newer keys wrapped."""
        counts = self.session.connection().execute(
            select(_ALERTS.c.kek_version, func.count())
            .where(_ALERTS.c.kek_version != current, _ALERTS.c.wrapped_dek.is_not(None))
            .group_by(_ALERTS.c.kek_version)
            .order_by(_ALERTS.c.kek_version)
        )
        return {int(version): int(count) for version, count in counts}
