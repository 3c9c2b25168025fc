"""Search parameters and the answers that list things: pages, batch results, history, links."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    SkipValidation,
)

from exchange_api.alerts.schemas.alert import AlertCreate, AlertSummary
from exchange_api.alerts.schemas.parts import StrictModel, SubstanceName
from exchange_api.alerts.vocabulary import (
    AlertStatus,
    FollowUpKind,
    IncidentType,
    Stage,
)
from exchange_api.kit.pagination import Page
from exchange_api.reference.validators import CasNumber, CountryCode

__all__ = [
    "MAX_BATCH_ITEMS",
    "AlertFilterQuery",
    "AlertHistory",
    "AlertLinks",
    "AlertList",
    "AlertQuery",
    "AlertVersion",
    "BatchCreate",
    "BatchItemError",
    "BatchItemResult",
    "BatchResult",
    "CommonValue",
    "FieldChange",
    "FollowUpEntry",
    "LinkedAlert",
    "SharedValue",
]

MAX_BATCH_ITEMS = 500


class AlertFilterQuery(StrictModel):
    """The filters on routing facts, all combined with AND. A repeated filter (substance,
    incident_type, status) matches any of its values. Dates are inclusive. Countries are read as
    typed (lower case, ``EL``, ``UK``) and compared in their canonical form."""

    substance: list[CasNumber] = Field(
        default_factory=list,
        max_length=20,
        description="CAS number; another number the catalogue knows for an entry finds that "
        "entry's alerts.",
    )
    substance_name: SubstanceName | None = Field(
        default=None,
        description="A substance name, matched exactly after normalisation (case, spacing and "
        "punctuation ignored): the alerts whose substance was sent under that name, and those of "
        "the catalogue entry the name or synonym denotes.",
    )
    origin: CountryCode | None = None
    transit: CountryCode | None = None
    destination: CountryCode | None = None
    country: CountryCode | None = Field(default=None, description="On any leg of the route.")
    incident_type: list[IncidentType] = Field(default_factory=list, max_length=10)
    status: list[AlertStatus] = Field(default_factory=list, max_length=6)
    reporting_agency: uuid.UUID | None = None
    detected_after: date | None = Field(default=None, description="Detected on or after.")
    detected_before: date | None = Field(default=None, description="Detected on or before.")


class AlertQuery(AlertFilterQuery):
    """Search filters, all combined with AND (see :class:`AlertFilterQuery`), and the
    blind-index filters and paging of a search."""

    party: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A company name or identifier, matched exactly after normalisation (case, "
        "spacing and punctuation ignored). Needs X-Purpose.",
    )
    document: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="A document or container number, matched exactly after normalisation. "
        "Needs X-Purpose.",
    )
    stage: list[Stage] = Field(
        default_factory=list,
        max_length=10,
        description="The furthest penal-chain step among the follow-ups the caller sees.",
    )
    cursor: str | None = Field(
        default=None, max_length=64, description="`next_cursor` of the previous page."
    )
    limit: int = Field(default=50, ge=1, le=200, description="Page size.")


class AlertList(Page[AlertSummary]):
    """One page of a search, newest first."""


# --- batch ----------------------------------------------------------------------------------


class BatchCreate(StrictModel):
    """Up to 500 alerts; each is validated on its own, so one bad item does not sink the rest."""

    # Items are validated one by one by the service (so that one bad item, even one that is not
    # an object, fails alone); SkipValidation keeps them raw while documenting them as alerts.
    alerts: list[SkipValidation[AlertCreate]] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class BatchItemError(BaseModel):
    index: int
    error: dict[str, object] = Field(description="A problem document (RFC 9457).")


class BatchItemResult(BaseModel):
    index: int
    id: uuid.UUID


class BatchResult(BaseModel):
    """One result per item, in the order sent."""

    results: list[BatchItemResult | BatchItemError]


# --- history and links ----------------------------------------------------------------------


class FieldChange(BaseModel):
    """A changed field. Routing facts show old and new values; sensitive groups only the name."""

    field: str
    old: object | None = None
    new: object | None = None


class AlertVersion(BaseModel):
    """A version of the alert: its creation or a change."""

    version: int
    event: Literal["created", "updated"]
    at: datetime
    agency: uuid.UUID
    officer: str | None = Field(
        description="Who acted; null when the caller may not see the contact group."
    )
    changes: list[FieldChange]


class FollowUpEntry(BaseModel):
    """A follow-up added to the alert (it does not change the alert's version). Its texts are
    read through the follow-ups list, never here."""

    event: Literal["followup"]
    at: datetime
    agency: uuid.UUID = Field(description="The follower's agency.")
    followup: uuid.UUID = Field(description="The follow-up's id.")
    kind: FollowUpKind


class AlertHistory(BaseModel):
    """Every version and every follow-up the caller may see, oldest first. One page: an
    alert's history is bounded by its edits and follow-ups."""

    items: list[Annotated[AlertVersion | FollowUpEntry, Field(discriminator="event")]]
    next_cursor: str | None = None


class SharedValue(BaseModel):
    field: Literal["party.name", "party.identifier", "document.number", "person.name_dob"]
    value: str | None = Field(
        description="The shared value as this alert holds it; null if the caller may not see it."
    )


class LinkedAlert(BaseModel):
    id: uuid.UUID
    shared: list[SharedValue]


class CommonValue(SharedValue):
    """A value shared by more alerts than the links threshold: too common to link on."""

    more_than: int


class AlertLinks(BaseModel):
    """Visible alerts sharing a party, document or person with this one, newest first.

    One page: each value links at most the threshold's number of alerts (beyond it the value
    is reported under ``common``), so the answer is bounded.
    """

    items: list[LinkedAlert]
    common: list[CommonValue]
    next_cursor: str | None = None
