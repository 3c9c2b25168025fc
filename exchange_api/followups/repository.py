"""The follow-ups domain's SQL. Every query that can return a follow-up carries
:func:`~exchange_api.alerts.visibility.followup_visible_to` (or its bound form): there is no
unscoped read here."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import FromClause, Row, bindparam, insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, SQLModel, col, select

from exchange_api.alerts.visibility import (
    followup_visible_to,
    followup_visible_to_bound,
    viewer_params,
)
from exchange_api.auth.caller import Caller
from exchange_api.models.agencies import AgencyKind
from exchange_api.models.alerts import Alert
from exchange_api.models.followups import FollowUp, FollowUpAudience

__all__ = ["FollowUpRepository", "counted_followups"]

_FOLLOWUPS = SQLModel.metadata.tables[FollowUp.__tablename__]


def counted_followups(caller: Caller | None) -> FromClause:
    """The follow-ups a statistic may count, as rows of ``alert_id`` and ``kind``: those
    ``caller`` may see, or — ``None``, for the network scope, whose cells are suppressed when
    small — every follow-up (their kinds are routing facts, like an alert's)."""
    every = sql_select(_FOLLOWUPS.c.alert_id, _FOLLOWUPS.c.kind)
    if caller is None:
        return every.subquery("counted_followups")
    visible = every.join(Alert, col(Alert.id) == _FOLLOWUPS.c.alert_id)
    return visible.where(followup_visible_to(caller)).subquery("counted_followups")


@cache
def _page(*, industry: bool, after: bool, only: bool) -> Any:
    """The statement of :meth:`FollowUpRepository.visible_page` for one shape of request, with
    the caller and the values as bound parameters: built once per shape, not per request (the
    visibility condition's construction and its cache key were a tenth of a page's CPU)."""
    statement = sql_select(*_FOLLOWUPS.c).where(
        _FOLLOWUPS.c.alert_id == bindparam("alert_id"),
        followup_visible_to_bound(industry=industry),
    )
    if after:
        statement = statement.where(_FOLLOWUPS.c.id > bindparam("after"))
    if only:
        statement = statement.where(_FOLLOWUPS.c.id == bindparam("only"))
    return statement.order_by(_FOLLOWUPS.c.id).limit(bindparam("limit"))


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
    ) -> list[Row[Any]]:
        """Up to ``limit`` follow-ups of the alert that ``caller`` may see, oldest first, after
        ``after``; only the one with id ``only`` when given. Rows of the table's columns, not
        entities: a page is read, never changed."""
        statement = _page(
            industry=caller.agency_kind is AgencyKind.INDUSTRY,
            after=after is not None,
            only=only is not None,
        )
        params = {
            "alert_id": alert_id,
            "after": after,
            "only": only,
            "limit": limit,
            **viewer_params(caller),
        }
        return list(self.session.connection().execute(statement, params))

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
