"""Follow-ups at rest: what happened next to an alert, along the penal chain.

One row of ``followups`` per follow-up, never changed once written (a correction is a new row
whose ``corrects`` names the old one). The routing facts (kind, date, seized substances, arrests,
handling, distribution, the follower's agency) are plain columns; ``summary`` and ``reference``
are sealed under the alert's data key, bound to the follow-up's id and field
(:class:`~exchange_api.alerts.sealing.AttachedCipher`), and become NULL when retention shreds
the alert: without its key they could not be opened anyway.

``followup_audience`` (followup_id, agency_id) lists, for distribution ``agencies``, the agencies
named besides the alert's reporting agency and the follower's, which always see it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from exchange_api.models.types import UTCDateTime

__all__ = ["FollowUp", "FollowUpAudience"]


class FollowUp(SQLModel, table=True):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_alert_id_id", "alert_id", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    alert_id: uuid.UUID = Field(foreign_key="alerts.id", nullable=False)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", nullable=False)
    kind: str = Field(max_length=32, nullable=False)
    occurred_on: date = Field(nullable=False)
    seized: list[dict[str, Any]] = Field(sa_type=JSON, nullable=False)
    arrests: int | None = Field(default=None, nullable=True)
    corrects: uuid.UUID | None = Field(default=None, foreign_key="followups.id", nullable=True)
    handling: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    distribution_scope: str = Field(max_length=16, nullable=False)
    distribution: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    sealed_summary: bytes | None = Field(default=None, nullable=True)
    sealed_reference: bytes | None = Field(default=None, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class FollowUpAudience(SQLModel, table=True):
    __tablename__ = "followup_audience"

    followup_id: uuid.UUID = Field(primary_key=True, foreign_key="followups.id")
    agency_id: uuid.UUID = Field(primary_key=True, foreign_key="agencies.id")
