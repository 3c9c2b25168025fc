"""The parts of an alert: substances, route, handling, distribution (routing facts, plain at
rest) and parties, documents, persons (sensitive, sealed at rest), and the checks on each.

Validation messages say what is wrong and never repeat the value: alerts carry names, numbers and
case text, and a validation error travels back to the caller and into logs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Self

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
    DistributionScope,
    DocumentKind,
    HandlingCode,
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
from exchange_api.models.alerts import MAX_SUBSTANCE_NAME
from exchange_api.reference.validators import (
    CasNumber,
    CountryCode,
    UnLocode,
    check_container_number,
)

__all__ = [
    "Distribution",
    "Document",
    "Handling",
    "HandlingRead",
    "Party",
    "PastDate",
    "Person",
    "Route",
    "StrictModel",
    "SubstanceLine",
    "SubstanceName",
    "SubstanceRead",
    "latest_date_anywhere",
]


def latest_date_anywhere(now: datetime | None = None) -> date:
    """Today in the time zone furthest ahead (UTC+14): the latest date an event can bear.

    "Not in the future" judged by UTC alone would refuse an alert sent at 10:00 in Auckland
    about something seen that morning. ``now`` is the app's clock where a rule reads it
    (``exchange_api.kit.clock``); the wall clock otherwise.
    """
    return ((now or datetime.now(UTC)) + timedelta(hours=14)).date()


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


def _fits_substance_key(value: str) -> str:
    # The normalised name is stored and indexed; NFKC can lengthen text, so bound that form too.
    if len(normalise_text(value)) > MAX_SUBSTANCE_NAME:
        raise ValueError(f"must stay within {MAX_SUBSTANCE_NAME} characters once normalised")
    return value


SubstanceName = Annotated[Name, AfterValidator(_fits_substance_key)]


class StrictModel(BaseModel):
    """Unknown fields are refused everywhere: no mass assignment, no silently dropped data."""

    model_config = ConfigDict(extra="forbid")


# --- routing facts (stored in plain text on purpose, docs/decisions/0009) ------------------------


class SubstanceLine(StrictModel):
    """One chemical of the consignment, by CAS number, by name, or both.

    Any valid CAS number is accepted, listed or not, and so is any name: designer precursors
    and pre-precursors often have no CAS number yet, and new substances are the point of early
    warning. The name is a routing fact (plain at rest), kept as sent.
    """

    cas: CasNumber | None = None
    name: SubstanceName | None = Field(
        default=None,
        description="The name as the officer knows it; matched to the catalogue's names and "
        "synonyms ignoring case, spacing and punctuation.",
    )
    quantity: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    unit: QuantityUnit | None = None
    concentration_pct: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)

    @model_validator(mode="after")
    def _identified_and_quantity_has_unit(self) -> Self:
        if self.cas is None and self.name is None:
            raise ValueError("a substance needs a cas or a name")
        if (self.quantity is None) != (self.unit is None):
            raise ValueError("quantity and unit go together")
        return self


class SubstanceRead(SubstanceLine):
    """A substance line as read back (``cas`` and ``name`` as sent; a line sent by CAS number
    alone reads with the catalogue's name), with what the catalogue knows of it."""

    scheduled: bool = Field(
        description="On a UN table or EU category; false for a substance the catalogue does not "
        "list."
    )
    catalogue_cas: str | None = Field(
        description="The catalogue entry's CAS number; null if not listed, or listed by name only."
    )
    catalogue_name: str | None = Field(
        description="The catalogue entry's name; null if not listed."
    )


class Route(StrictModel):
    """Where the consignment came from, passed through and was going."""

    origin: CountryCode | None = None
    transit: list[CountryCode] = Field(default_factory=list, max_length=20)
    destination: CountryCode | None = None
    port_of_loading: UnLocode | None = None
    port_of_discharge: UnLocode | None = None
    transport_mode: TransportMode | None = None


class Handling(StrictModel):
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


class Distribution(StrictModel):
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


# --- sensitive field groups (sealed, docs/contract.md §5) -----------------------------------------


class Party(StrictModel):
    """A company or organisation in the trade. Name and identifier are blind-indexed."""

    role: PartyRole
    name: Name
    country: CountryCode | None = None
    identifier: Identifier | None = Field(
        default=None, description="Registration, tax or EORI number."
    )


class Document(StrictModel):
    """A document or transport unit. The number is blind-indexed; containers must pass ISO 6346."""

    kind: DocumentKind
    number: Identifier
    issued_by: CountryCode | None = None

    @field_validator("number")
    @classmethod
    def _container_check_digit(cls, number: str, info: ValidationInfo) -> str:
        # A container number is stored in its canonical form, so its blind index and a search
        # by the printed form (``CSQU 305438 3``) agree with the typed form (``csqu3054383``).
        if info.data.get("kind") == "container":
            return check_container_number(number)
        return number


class Person(StrictModel):
    """A natural person. Name and date of birth together are blind-indexed."""

    category: PersonCategory
    role: str | None = Field(default=None, min_length=1, max_length=200)
    name: Name
    date_of_birth: PastDate | None = None
    nationality: CountryCode | None = None
    identity_document: Identifier | None = None
