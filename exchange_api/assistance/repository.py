"""The SQL of requests between agencies. Every read is scoped by the caller's agency: a request
is found only as the sender's or the addressee's, never by its id alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from exchange_api.alerts.visibility import visible_to_agency
from exchange_api.models.agencies import AgencyKind
from exchange_api.models.alerts import Alert
from exchange_api.models.assistance import AssistanceRequest

__all__ = ["AssistanceRepository", "BoxFilters"]


@dataclass(frozen=True, slots=True)
class BoxFilters:
    agency_id: uuid.UUID
    outbox: bool
    state: str | None
    alert_id: uuid.UUID | None
    kind: str | None
    today: date


def _in_state(state: str, today: date) -> ColumnElement[bool]:
    """``state`` as a condition: open and overdue are both still unanswered, on either side of
    their due date as of ``today``."""
    outcome = col(AssistanceRequest.outcome)
    due_by = col(AssistanceRequest.due_by)
    if state == "open":
        return and_(outcome.is_(None), due_by >= today)
    if state == "overdue":
        return and_(outcome.is_(None), due_by < today)
    return outcome == state


class AssistanceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: AssistanceRequest) -> None:
        self.session.add(row)
        self.session.flush()

    def alert_visible_to(self, alert_id: uuid.UUID, agency_id: uuid.UUID, kind: AgencyKind) -> bool:
        """Whether the agency may see the alert: the alerts domain's one visibility condition."""
        statement = select(col(Alert.id)).where(
            col(Alert.id) == alert_id, visible_to_agency(agency_id, kind)
        )
        return self.session.exec(statement).first() is not None

    def get_for_party(
        self, request_id: uuid.UUID, agency_id: uuid.UUID
    ) -> tuple[AssistanceRequest, Alert] | None:
        """The request and its alert if ``agency_id`` sent it or is its addressee; None if it
        is absent or another's (alike)."""
        statement = (
            select(AssistanceRequest, Alert)
            .join(Alert, col(Alert.id) == col(AssistanceRequest.alert_id))
            .where(
                col(AssistanceRequest.id) == request_id,
                or_(
                    col(AssistanceRequest.from_agency_id) == agency_id,
                    col(AssistanceRequest.to_agency_id) == agency_id,
                ),
            )
        )
        found = self.session.exec(statement).first()
        return (found[0], found[1]) if found is not None else None

    def box(
        self, filters: BoxFilters, *, before: uuid.UUID | None, limit: int
    ) -> list[AssistanceRequest]:
        """Up to ``limit`` requests of one agency's inbox or outbox, newest first."""
        side = (
            AssistanceRequest.from_agency_id if filters.outbox else AssistanceRequest.to_agency_id
        )
        statement = (
            select(AssistanceRequest)
            .where(col(side) == filters.agency_id)
            .order_by(col(AssistanceRequest.id).desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(col(AssistanceRequest.id) < before)
        if filters.state is not None:
            statement = statement.where(_in_state(filters.state, filters.today))
        if filters.alert_id is not None:
            statement = statement.where(col(AssistanceRequest.alert_id) == filters.alert_id)
        if filters.kind is not None:
            statement = statement.where(col(AssistanceRequest.kind) == filters.kind)
        return list(self.session.exec(statement))

    def record_reply(
        self, request_id: uuid.UUID, outcome: str, sealed_reply: bytes, at: datetime
    ) -> bool:
        """Store the reply unless one is already there; False if another got there first (the
        conditional UPDATE is the lock, on both databases)."""
        result = self.session.exec(
            update(AssistanceRequest)
            .where(
                col(AssistanceRequest.id) == request_id, col(AssistanceRequest.outcome).is_(None)
            )
            .values(outcome=outcome, sealed_reply=sealed_reply, replied_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    def lock_newly_overdue(self, today: date, limit: int) -> list[AssistanceRequest]:
        """Up to ``limit`` unanswered requests past their due day whose ``request.overdue`` was
        not produced yet, locked (a second worker skips them, or on SQLite waits its turn)."""
        statement = (
            select(AssistanceRequest)
            .where(
                col(AssistanceRequest.outcome).is_(None),
                col(AssistanceRequest.due_by) < today,
                col(AssistanceRequest.overdue_noticed_at).is_(None),
            )
            .order_by(col(AssistanceRequest.due_by), col(AssistanceRequest.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.exec(statement))

    def mark_overdue_noticed(self, ids: list[uuid.UUID], at: datetime) -> None:
        self.session.execute(
            update(AssistanceRequest)
            .where(col(AssistanceRequest.id).in_(ids))
            .values(overdue_noticed_at=at)
        )
