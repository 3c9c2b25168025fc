"""API models of follow-ups: what an agency sends and what a caller reads (plaintext; the table
holds the texts sealed). The parts shared with alerts (substance lines, handling, the CAS check,
units) are the alerts' own models."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Final, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from exchange_api.alerts.schemas import Handling, HandlingRead, SubstanceLine, SubstanceRead
from exchange_api.alerts.schemas.alert import Narrative, Reference
from exchange_api.alerts.schemas.parts import StrictModel
from exchange_api.alerts.vocabulary import FollowUpDistributionScope, FollowUpKind, FollowUpText
from exchange_api.kit.pagination import Page

__all__ = [
    "FollowUpCreate",
    "FollowUpDistribution",
    "FollowUpList",
    "FollowUpRead",
    "FollowUpReceipt",
]

# Control characters other than tab, line feed and carriage return (NUL included).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL included)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Summary = Annotated[Narrative, AfterValidator(_plain_text)]
FollowUpReference = Annotated[Reference, AfterValidator(_plain_text)]


class FollowUpDistribution(StrictModel):
    """Who sees the follow-up: whoever sees the alert (``alert``), or the ``agencies`` listed
    that also see the alert. The alert's reporting agency and the follower always see it."""

    scope: FollowUpDistributionScope = "alert"
    agencies: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="With scope agencies: agency ids."
    )

    @field_validator("agencies")
    @classmethod
    def _unique(cls, agencies: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(agencies)) != len(agencies):
            raise ValueError("agencies must not repeat")
        return agencies

    @model_validator(mode="after")
    def _listed_with_scope(self) -> Self:
        if (self.scope == "agencies") != bool(self.agencies):
            raise ValueError("agencies must be listed with scope agencies, and only then")
        return self


class FollowUpCreate(StrictModel):
    """A follow-up as an agency system sends it. Immutable once stored: to correct one, send a
    new follow-up whose ``corrects`` names it. Unknown fields are refused."""

    model_config = ConfigDict(title="FollowUpCreate")

    kind: FollowUpKind
    occurred_on: date = Field(description="When it happened; not after today.")
    summary: Summary = Field(description="What happened (sealed; withheld from regulators).")
    reference: FollowUpReference | None = Field(
        default=None, description="The follower's own case or court reference (sealed)."
    )
    seized: list[SubstanceLine] = Field(default_factory=list, max_length=50)
    arrests: int | None = Field(default=None, ge=0, le=100_000)
    corrects: uuid.UUID | None = Field(
        default=None, description="The follow-up of this alert, by the same agency, corrected."
    )
    handling: Handling
    distribution: FollowUpDistribution = Field(default_factory=FollowUpDistribution)


class FollowUpReceipt(BaseModel):
    """The answer to a new follow-up: its id, its alert and when it was stored. No text is
    echoed back."""

    id: uuid.UUID
    alert: uuid.UUID
    created_at: datetime


class FollowUpRead(BaseModel):
    """A follow-up as the caller may see it: texts it may not read are absent and listed in
    ``withheld``."""

    model_config = ConfigDict(title="FollowUpRead")

    id: uuid.UUID
    alert: uuid.UUID
    agency: uuid.UUID = Field(description="The follower's agency.")
    created_at: datetime
    kind: FollowUpKind
    occurred_on: date
    seized: list[SubstanceRead]
    arrests: int | None
    corrects: uuid.UUID | None
    handling: HandlingRead
    distribution: FollowUpDistribution
    summary: str | None = None
    reference: str | None = None
    withheld: list[FollowUpText] = Field(
        description="Texts the caller's agency kind may not read; absent from the body."
    )


class FollowUpList(Page[FollowUpRead]):
    """One page of an alert's follow-ups, oldest first."""
