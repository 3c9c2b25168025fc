"""The follow-ups domain's SQL. Every query that can return a follow-up carries
:func:`~exchange_api.alerts.visibility.followup_visible_to`: there is no unscoped read here."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import FromClause, insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, SQLModel, col, select

from exchange_api.alerts.visibility import followup_visible_to
from exchange_api.auth.caller import Caller
from exchange_api.models.alerts import Alert
from exchange_api.models.followups import FollowUp, FollowUpAudience

__all__ = ["FollowUpRepository", "counted_followups"]


def counted_followups(caller: Caller | None) -> FromClause:
    """The follow-ups a statistic may count, as rows of ``alert_id`` and ``kind``: those
    ``caller`` may see, or — ``None``, for the network scope, whose cells are suppressed when
    small — every follow-up (their kinds are routing facts, like an alert's)."""
    table = SQLModel.metadata.tables[FollowUp.__tablename__]
    every = sql_select(table.c.alert_id, table.c.kind)
    if caller is None:
        return every.subquery("counted_followups")
    visible = every.join(Alert, col(Alert.id) == table.c.alert_id)
    return visible.where(followup_visible_to(caller)).subquery("counted_followups")


class FollowUpRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert(self, followup: dict[str, Any], audience: list[dict[str, Any]]) -> None:
        """Write a follow-up and the agencies it is distributed to."""
        self.session.execute(insert(FollowUp), [followup])
        if audience:
            self.session.execute(insert(FollowUpAudience), audience)

    def visible_page(
        self,
        caller: Caller,
        alert_id: uuid.UUID,
        *,
        after: uuid.UUID | None = None,
        only: uuid.UUID | None = None,
        limit: int,
    ) -> list[FollowUp]:
        """Up to ``limit`` follow-ups of the alert that ``caller`` may see, oldest first, after
        ``after``; only the one with id ``only`` when given."""
        statement = select(FollowUp).where(
            col(FollowUp.alert_id) == alert_id, followup_visible_to(caller)
        )
        if after is not None:
            statement = statement.where(col(FollowUp.id) > after)
        if only is not None:
            statement = statement.where(col(FollowUp.id) == only)
        return list(self.session.exec(statement.order_by(col(FollowUp.id)).limit(limit)))

    def follower_of(
        self, caller: Caller, alert_id: uuid.UUID, followup_id: uuid.UUID
    ) -> uuid.UUID | None:
        """The agency that wrote a follow-up of the alert visible to ``caller``; None if there
        is no such follow-up (or it is invisible: alike)."""
        statement = select(col(FollowUp.agency_id)).where(
            col(FollowUp.id) == followup_id,
            col(FollowUp.alert_id) == alert_id,
            followup_visible_to(caller),
        )
        return self.session.exec(statement).one_or_none()
