"""API models of the events domain: events, the feed's query, watch lists, deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from exchange_api.alerts.schemas import AlertSummary
from exchange_api.alerts.vocabulary import IncidentType
from exchange_api.events.outbox import EventType
from exchange_api.kit.pagination import Page
from exchange_api.reference.validators import CasNumber, CountryCode

__all__ = [
    "DeliveryList",
    "DeliveryRead",
    "Event",
    "EventPage",
    "EventQuery",
    "EventSubstance",
    "SubscriptionCreate",
    "SubscriptionCreated",
    "SubscriptionFilter",
    "SubscriptionList",
    "SubscriptionRead",
    "WebhookCreate",
]

_FORBID = ConfigDict(extra="forbid")


class EventSubstance(BaseModel):
    """The substance of a `substance.emerging` event: routing facts only."""

    key: str = Field(description="The substance key: a CAS number, or `name:` and the name.")
    cas: str | None = Field(description="The CAS number, if the key is one.")
    name: str | None = Field(description="The normalised name as reported.")


class Event(BaseModel):
    """One event: ids and routing facts, never a sealed value."""

    id: str = Field(description="The event's cursor (opaque, increasing); `webhook-id` too.")
    type: EventType
    at: datetime = Field(description="When the change happened.")
    alert_id: uuid.UUID | None
    followup_id: uuid.UUID | None
    request_id: uuid.UUID | None
    subscriptions: list[uuid.UUID] = Field(
        description="The caller's watch lists that the alert matched when the event happened."
    )
    alert: AlertSummary | None = Field(
        description="The alert's routing facts as they are when the event is read; null for an "
        "event about no alert (`substance.emerging`)."
    )
    substance: EventSubstance | None = Field(
        default=None,
        description="For `substance.emerging`: the uncatalogued substance that crossed the "
        "early-warning thresholds; null otherwise.",
    )


class EventPage(Page[Event]):
    """One page of the feed, oldest first."""

    next_cursor: str = Field(
        description="Pass as `after` to continue (opaque); never null, even on an empty page."
    )


class EventQuery(BaseModel):
    """The feed's parameters."""

    model_config = _FORBID

    after: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="`next_cursor` (or an event id) to continue after; default: the oldest kept.",
    )
    limit: int = Field(default=100, ge=1, le=500, description="Events per page at most.")
    type: list[EventType] = Field(default_factory=list, max_length=10)
    subscription: uuid.UUID | None = Field(
        default=None, description="Only events that matched this watch list of the caller's."
    )
    wait: float = Field(
        default=0, ge=0, le=30, description="Seconds to wait for an event when there is none."
    )


class SubscriptionFilter(BaseModel):
    """What a watch list matches: the search filters (AND across, OR within a list)."""

    model_config = _FORBID

    substance: list[CasNumber] = Field(default_factory=list, max_length=20)
    substance_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A catalogue name or synonym (case ignored).",
    )
    origin: CountryCode | None = None
    transit: CountryCode | None = None
    destination: CountryCode | None = None
    country: CountryCode | None = Field(default=None, description="On any leg of the route.")
    incident_type: list[IncidentType] = Field(default_factory=list, max_length=10)
    party: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A company name or identifier; kept only as a blind index. Needs X-Purpose.",
    )
    document: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="A document or container number; kept only as a blind index. Needs X-Purpose.",
    )


class WebhookCreate(BaseModel):
    model_config = _FORBID

    url: str = Field(
        min_length=8,
        max_length=2000,
        description="https only; never a loopback, private or link-local address.",
    )


class SubscriptionCreate(BaseModel):
    model_config = _FORBID

    name: str = Field(min_length=1, max_length=200)
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)
    webhook: WebhookCreate | None = None


class SubscriptionRead(BaseModel):
    """A watch list; `party` and `document` are shown as `"<set>"`."""

    id: uuid.UUID
    name: str
    filter: dict[str, object]
    webhook: dict[str, str] | None
    state: Literal["active", "failing"]
    created_at: datetime
    failing_since: datetime | None


class SubscriptionCreated(SubscriptionRead):
    secret: str | None = Field(
        description="The webhook's signing secret (`whsec_…`), shown this once; null without "
        "a webhook."
    )


class SubscriptionList(Page[SubscriptionRead]):
    """The caller's watch lists."""


class DeliveryRead(BaseModel):
    """One event sent (or to send) to the watch list's webhook."""

    event_id: str
    state: Literal["pending", "delivered", "refused", "expired"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryList(Page[DeliveryRead]):
    """A watch list's deliveries, newest first."""
