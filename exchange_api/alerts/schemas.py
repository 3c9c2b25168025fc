"""API models of the exchange format: what agencies send and receive (DESIGN §4 "Alerts").

These hold plaintext and never inherit from the tables (which hold ciphertext). Validation
messages say what is wrong and never repeat the value: alerts carry names, numbers and case
text, and a validation error travels back to the caller and into logs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from exchange_api.alerts.vocabulary import (
    AlertStatus,
    DistributionScope,
    DocumentKind,
    FieldGroup,
    HandlingCode,
    IncidentType,
    InformationReliability,
    PartyRole,
    PersonCategory,
    QuantityUnit,
    SourceReliability,
    Tlp,
    TransportMode,
)
from exchange_api.crypto import normalise_identifier, normalise_text
from exchange_api.models.agencies import AgencyKind
from exchange_api.reference.validators import (
    CasNumber,
    CountryCode,
    UnLocode,
    is_valid_container_number,
)

__all__ = [
    "MAX_BATCH_ITEMS",
    "AlertCreate",
    "AlertHistory",
    "AlertLinks",
    "AlertList",
    "AlertPatch",
    "AlertQuery",
    "AlertRead",
    "AlertReceipt",
    "AlertSummary",
    "AlertVersion",
    "BatchCreate",
    "BatchItemError",
    "BatchItemResult",
    "BatchResult",
    "CommonValue",
    "Distribution",
    "Document",
    "FieldChange",
    "Handling",
    "HandlingRead",
    "LinkedAlert",
    "Party",
    "Person",
    "Route",
    "SharedValue",
    "SubstanceLine",
    "SubstanceRead",
    "latest_date_anywhere",
]

MAX_BATCH_ITEMS = 500


def latest_date_anywhere() -> date:
    """Today in the time zone furthest ahead (UTC+14): the latest date an event can bear.

    "Not in the future" judged by UTC alone would refuse an alert sent at 10:00 in Auckland
    about something seen that morning.
    """
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _has_name_content(value: str) -> str:
    if not normalise_text(value):
        raise ValueError("must contain letters or digits")
    return value


def _has_identifier_content(value: str) -> str:
    if not normalise_identifier(value):
        raise ValueError("must contain ASCII letters or digits")
    return value


def _not_in_future(value: date) -> date:
    if value > latest_date_anywhere():
        raise ValueError("must not be in the future")
    return value


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_has_name_content)
]
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(_has_identifier_content)
]
PastDate = Annotated[date, AfterValidator(_not_in_future)]


class _Strict(BaseModel):
    """Unknown fields are refused everywhere: no mass assignment, no silently dropped data."""

    model_config = ConfigDict(extra="forbid")


# --- routing facts (stored in plain text on purpose, DESIGN §4) -----------------------------


class SubstanceLine(_Strict):
    """One chemical of the consignment. Any valid CAS number is accepted, listed or not."""

    cas: CasNumber
    quantity: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    unit: QuantityUnit | None = None
    concentration_pct: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)

    @model_validator(mode="after")
    def _quantity_has_unit(self) -> Self:
        if (self.quantity is None) != (self.unit is None):
            raise ValueError("quantity and unit go together")
        return self


class SubstanceRead(SubstanceLine):
    """A substance line as read back, with what the catalogue knows of it."""

    scheduled: bool = Field(description="On a UN table or EU category; false for unknown CAS.")
    name: str | None = Field(description="The catalogue's name; null if not listed.")


class Route(_Strict):
    """Where the consignment came from, passed through and was going."""

    origin: CountryCode | None = None
    transit: list[CountryCode] = Field(default_factory=list, max_length=20)
    destination: CountryCode | None = None
    port_of_loading: UnLocode | None = None
    port_of_discharge: UnLocode | None = None
    transport_mode: TransportMode | None = None


class Handling(_Strict):
    """How the information may be used and passed on (Europol handling code, 4x4, TLP 2.0)."""

    code: HandlingCode
    restrictions: str | None = Field(
        default=None, min_length=1, max_length=1000, description="Required with H3, only then."
    )
    source_reliability: SourceReliability
    information_reliability: InformationReliability
    tlp: Tlp

    @model_validator(mode="after")
    def _restrictions_with_h3(self) -> Self:
        if (self.code == "H3") != (self.restrictions is not None):
            raise ValueError("restrictions are required with handling code H3 and only with it")
        return self


class HandlingRead(Handling):
    meaning: str = Field(description="What the handling code means, verbatim.")


class Distribution(_Strict):
    """Who may see the alert besides the reporting agency (which always sees its own)."""

    scope: DistributionScope
    kinds: list[AgencyKind] = Field(
        default_factory=list, max_length=4, description="With scope kinds: the agency kinds."
    )
    agencies: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="With scope agencies: agency ids."
    )

    @field_validator("kinds")
    @classmethod
    def _no_industry(cls, kinds: list[AgencyKind]) -> list[AgencyKind]:
        if AgencyKind.INDUSTRY in kinds:
            raise ValueError("industry agencies never see other agencies' alerts")
        if len(set(kinds)) != len(kinds):
            raise ValueError("kinds must not repeat")
        return kinds

    @field_validator("agencies")
    @classmethod
    def _unique_agencies(cls, agencies: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(agencies)) != len(agencies):
            raise ValueError("agencies must not repeat")
        return agencies

    @model_validator(mode="after")
    def _lists_match_scope(self) -> Self:
        if (self.scope == "kinds") != bool(self.kinds):
            raise ValueError("kinds must be listed with scope kinds, and only then")
        if (self.scope == "agencies") != bool(self.agencies):
            raise ValueError("agencies must be listed with scope agencies, and only then")
        return self


# --- sensitive field groups (sealed, DESIGN §5) ----------------------------------------------


class Party(_Strict):
    """A company or organisation in the trade. Name and identifier are blind-indexed."""

    role: PartyRole
    name: Name
    country: CountryCode | None = None
    identifier: Identifier | None = Field(
        default=None, description="Registration, tax or EORI number."
    )


class Document(_Strict):
    """A document or transport unit. The number is blind-indexed; containers must pass ISO 6346."""

    kind: DocumentKind
    number: Identifier
    issued_by: CountryCode | None = None

    @field_validator("number")
    @classmethod
    def _container_check_digit(cls, number: str, info: ValidationInfo) -> str:
        if info.data.get("kind") == "container" and not is_valid_container_number(number):
            raise ValueError(
                "not a valid ISO 6346 container number (3-letter owner code, category U, J or "
                "Z, 6-digit serial, check digit; upper case, no spaces)"
            )
        return number


class Person(_Strict):
    """A natural person. Name and date of birth together are blind-indexed."""

    category: PersonCategory
    role: str | None = Field(default=None, min_length=1, max_length=200)
    name: Name
    date_of_birth: PastDate | None = None
    nationality: CountryCode | None = None
    identity_document: Identifier | None = None


# --- the alert ------------------------------------------------------------------------------

Reference = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Narrative = Annotated[str, StringConstraints(min_length=1, max_length=20000)]
Contact = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _AlertContent(_Strict):
    incident_type: IncidentType
    status: AlertStatus = "open"
    detected_on: PastDate
    review_by: date | None = Field(
        default=None,
        description="When the need to keep the alert must be reviewed (LED Art. 5); defaults "
        "to detected_on plus the configured period.",
    )
    substances: list[SubstanceLine] = Field(min_length=1, max_length=50)
    route: Route = Field(default_factory=Route)
    handling: Handling
    distribution: Distribution


class AlertCreate(_AlertContent):
    """An alert as an agency system sends it. Unknown fields are refused."""

    model_config = ConfigDict(title="AlertCreate")

    reference: Reference | None = Field(default=None, description="The provider's case number.")
    parties: list[Party] = Field(default_factory=list, max_length=50)
    documents: list[Document] = Field(default_factory=list, max_length=100)
    persons: list[Person] = Field(default_factory=list, max_length=50)
    narrative: Narrative | None = None
    contact: Contact | None = Field(default=None, description="The officer's desk and phone.")

    @field_validator("review_by")
    @classmethod
    def _review_after_detection(cls, review_by: date | None, info: ValidationInfo) -> date | None:
        detected_on = info.data.get("detected_on")
        if review_by is not None and detected_on is not None and review_by <= detected_on:
            raise ValueError("must be after detected_on")
        return review_by


class AlertPatch(_Strict):
    """A change to an alert: a JSON Merge Patch (RFC 7386), ``application/merge-patch+json``.

    A member present replaces the current value; the objects ``route``, ``handling`` and
    ``distribution`` are merged member by member; ``null`` removes a member (``review_by`` then
    falls back to its default); lists are replaced whole. The patched alert must be a valid
    AlertCreate, and id, version and reporting agency cannot be set.
    """

    model_config = ConfigDict(title="AlertPatch")

    incident_type: IncidentType | None = None
    status: AlertStatus | None = None
    detected_on: date | None = None
    review_by: date | None = None
    substances: list[SubstanceLine] | None = None
    route: dict[str, object] | None = Field(default=None, description="Merged into the route.")
    handling: dict[str, object] | None = Field(
        default=None, description="Merged into the handling."
    )
    distribution: dict[str, object] | None = Field(
        default=None, description="Merged into the distribution."
    )
    reference: Reference | None = None
    parties: list[Party] | None = None
    documents: list[Document] | None = None
    persons: list[Person] | None = None
    narrative: Narrative | None = None
    contact: Contact | None = None


class _AlertFacts(BaseModel):
    id: uuid.UUID
    version: int = Field(ge=1)
    reporting_agency: uuid.UUID
    created_at: datetime
    updated_at: datetime
    incident_type: IncidentType
    status: AlertStatus
    detected_on: date
    review_by: date
    substances: list[SubstanceRead]
    route: Route
    handling: HandlingRead
    distribution: Distribution


class AlertSummary(_AlertFacts):
    """An alert's routing facts, as search lists them (no sensitive field is opened)."""


class AlertRead(_AlertFacts):
    """An alert as the caller may see it: withheld field groups are absent and listed."""

    model_config = ConfigDict(title="AlertRead")

    reference: Reference | None = None
    parties: list[Party] | None = None
    documents: list[Document] | None = None
    persons: list[Person] | None = None
    narrative: Narrative | None = None
    contact: Contact | None = None
    withheld: list[FieldGroup] = Field(
        description="Field groups the caller's agency kind may not see; absent from the body."
    )


class AlertReceipt(BaseModel):
    """The answer to a create or a change: the alert's id and new version, and what the
    catalogue says of its substances. No sensitive field is echoed back."""

    id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
    review_by: date
    substances: list[SubstanceRead]


class AlertQuery(_Strict):
    """Search filters, all combined with AND. A repeated filter (substance, incident_type,
    status) matches any of its values. Dates are inclusive."""

    substance: list[CasNumber] = Field(default_factory=list, max_length=20)
    origin: CountryCode | None = None
    transit: CountryCode | None = None
    destination: CountryCode | None = None
    country: CountryCode | None = Field(default=None, description="On any leg of the route.")
    incident_type: list[IncidentType] = Field(default_factory=list, max_length=10)
    status: list[AlertStatus] = Field(default_factory=list, max_length=6)
    reporting_agency: uuid.UUID | None = None
    detected_after: date | None = Field(default=None, description="Detected on or after.")
    detected_before: date | None = Field(default=None, description="Detected on or before.")
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
    cursor: str | None = Field(
        default=None, max_length=64, description="`next_cursor` of the previous page."
    )
    limit: int = Field(default=50, ge=1, le=200, description="Page size.")


class AlertList(BaseModel):
    """One page of a search, newest first; ``next_cursor`` is null on the last page."""

    items: list[AlertSummary]
    next_cursor: str | None


# --- batch ----------------------------------------------------------------------------------


class BatchCreate(_Strict):
    """Up to 500 alerts; each is validated on its own, so one bad item does not sink the rest."""

    alerts: list[dict[str, object]] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


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
    version: int
    event: Literal["created", "updated"]
    at: datetime
    agency: uuid.UUID
    officer: str | None = Field(
        description="Who acted; null when the caller may not see the contact group."
    )
    changes: list[FieldChange]


class AlertHistory(BaseModel):
    """Every version, oldest first. One page: an alert's history is bounded by its edits."""

    items: list[AlertVersion]
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
