"""Requests for assistance between agencies, about an alert (``exchange_api.assistance``).

One row per request. Who asked whom, about which alert, what kind of help, how urgently and by
when are plain columns: they are what inboxes, outboxes and deadlines are made of, and they carry
no personal data. The request's message and the reply's message are sealed under the alert's data
key (``sealed_message``, ``sealed_reply``), each bound to the request id and its field; retention
sets both to NULL when it shreds the alert, and the key is gone anyway.

``outcome`` is NULL while the request is open, then ``answered`` or ``declined``; "overdue" is not
stored: it is an open request whose ``due_by`` is before today, which only the clock can say.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from exchange_api.models.types import UTCDateTime

__all__ = ["AssistanceRequest"]


class AssistanceRequest(SQLModel, table=True):
    __tablename__ = "assistance_requests"
    __table_args__ = (
        # The two boxes, newest first (ids are UUIDv7), and retention's way in by alert.
        Index("ix_assistance_requests_to_agency_id_id", "to_agency_id", "id"),
        Index("ix_assistance_requests_from_agency_id_id", "from_agency_id", "id"),
        Index("ix_assistance_requests_alert_id", "alert_id"),
        # The overdue notices' way in: unanswered requests past their day, not yet announced.
        Index("ix_assistance_requests_due_by", "due_by"),
    )

    id: uuid.UUID = Field(primary_key=True)
    alert_id: uuid.UUID = Field(foreign_key="alerts.id", nullable=False)
    from_agency_id: uuid.UUID = Field(foreign_key="agencies.id", nullable=False)
    to_agency_id: uuid.UUID = Field(foreign_key="agencies.id", nullable=False)
    kind: str = Field(max_length=32, nullable=False)
    urgency: str = Field(max_length=16, nullable=False)
    due_by: date = Field(nullable=False)
    sealed_message: bytes | None = Field(default=None, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    outcome: str | None = Field(default=None, max_length=16, nullable=True)
    sealed_reply: bytes | None = Field(default=None, nullable=True)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    overdue_noticed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    """When ``request.overdue`` was produced for it (once; overdue itself is derived)."""
