"""Events, watch lists and webhook deliveries at rest (docs/contract.md, "Events").

An event names what changed (type, alert, follow-up, request) and, for events only two agencies
may read, those two agencies: ids and routing facts only, never a sealed value. It is written
twice, in two steps (see :mod:`exchange_api.events.sequencer` and docs/decisions/0015):

- ``event_intake``: the producer's one INSERT, in the transaction of the change that causes it;
  an auto-incremented id, no order promise across transactions.
- ``events``: the same facts under ``seq``, given by the sequencer in commit order under the
  lock of the single ``event_head`` row. ``seq`` is the feed's cursor: a reader never misses an
  event committed after it read a later one.

Watch lists (``subscriptions``) keep their filter as one ``subscription_criteria`` row per
criterion value (party and document filters as blind-index tags only), so that matching an
alert is a join on ``(kind, value)``, not one evaluation per list; the matches of each event are
stored in ``event_matches`` when it is sequenced. An event about no alert (``substance.emerging``)
names its substance key instead, and ``emerging_substances`` keeps each key announced, once.
``webhook_deliveries`` is the delivery queue
and log of a watch list with a webhook; its signing secret is stored sealed by the keyring.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Integer, text
from sqlmodel import Field, SQLModel

from exchange_api.models.alerts import MAX_SUBSTANCE_KEY, MAX_SUBSTANCE_NAME
from exchange_api.models.types import UTCDateTime

__all__ = [
    "EmergingSubstance",
    "EventHead",
    "EventIntakeRecord",
    "EventMatch",
    "EventRecord",
    "Subscription",
    "SubscriptionCriterion",
    "WebhookDelivery",
]


class _EventFields(SQLModel):
    type: str = Field(max_length=32, nullable=False)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    alert_id: uuid.UUID | None = Field(default=None, nullable=True)
    followup_id: uuid.UUID | None = Field(default=None, nullable=True)
    request_id: uuid.UUID | None = Field(default=None, nullable=True)
    # When set, only these agencies (and only if they may see the alert) get the event.
    only_agency_a: uuid.UUID | None = Field(default=None, nullable=True)
    only_agency_b: uuid.UUID | None = Field(default=None, nullable=True)
    # The substance of an event about no alert (substance.emerging); read by every agency but
    # industry.
    substance_key: str | None = Field(default=None, max_length=MAX_SUBSTANCE_KEY, nullable=True)


class EventIntakeRecord(_EventFields, table=True):
    """An event as produced, waiting for the sequencer to give it its ``seq``."""

    __tablename__ = "event_intake"

    # INTEGER on SQLite, where only an INTEGER PRIMARY KEY is an auto-incrementing rowid.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )


class EventRecord(_EventFields, table=True):
    """A sequenced event: what the feed, the stream and the webhooks deliver."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_at", "at"),)

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class EventHead(SQLModel, table=True):
    """The newest ``seq`` given, and the newest one purged (older cursors are expired)."""

    __tablename__ = "event_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    purged_through: int = Field(sa_column=Column(BigInteger, nullable=False))


class EmergingSubstance(SQLModel, table=True):
    """An uncatalogued substance key already announced by a ``substance.emerging`` event: the
    primary key makes the announcement happen once, whichever transaction crosses first."""

    __tablename__ = "emerging_substances"

    substance_key: str = Field(primary_key=True, max_length=MAX_SUBSTANCE_KEY)
    name: str | None = Field(default=None, max_length=MAX_SUBSTANCE_NAME, nullable=True)
    """The normalised name as reported (as ``GET /v1/statistics/emerging`` shows it)."""
    announced_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Subscription(SQLModel, table=True):
    """A client's watch list; with a webhook, its URL and sealed signing secret."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_client_id_id", "client_id", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    client_id: str = Field(foreign_key="clients.client_id", max_length=64, nullable=False)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", nullable=False)
    name: str = Field(max_length=200, nullable=False)
    filter: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    """The filter as shown back: party and document as ``"<set>"``, never their values."""
    criteria_kinds: int = Field(nullable=False)
    """How many kinds of criteria the filter has: an alert matches when it meets all of them."""
    webhook_url: str | None = Field(default=None, max_length=2000, nullable=True)
    secret_kek_version: int | None = Field(default=None, nullable=True)
    sealed_secret: bytes | None = Field(default=None, nullable=True)
    state: str = Field(max_length=16, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class SubscriptionCriterion(SQLModel, table=True):
    """One accepted value of one criterion of a watch list (e.g. ``substance``, ``75-31-0``)."""

    __tablename__ = "subscription_criteria"
    __table_args__ = (Index("ix_subscription_criteria_subscription_id", "subscription_id"),)

    kind: str = Field(primary_key=True, max_length=16)
    value: str = Field(primary_key=True, max_length=100)
    subscription_id: uuid.UUID = Field(primary_key=True, foreign_key="subscriptions.id")


class EventMatch(SQLModel, table=True):
    """A watch list that the event's alert matched when the event was sequenced."""

    __tablename__ = "event_matches"
    __table_args__ = (Index("ix_event_matches_seq", "seq"),)

    subscription_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class WebhookDelivery(SQLModel, table=True):
    """One event to send to one webhook: the queue (``pending``, due at ``next_attempt_at``) and
    the log (attempts, the last status or error, when delivered)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    subscription_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    state: str = Field(max_length=16, nullable=False)
    attempts: int = Field(nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_status: int | None = Field(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=64, nullable=True)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
