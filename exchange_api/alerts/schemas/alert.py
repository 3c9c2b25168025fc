"""The alert as agencies send it (create, merge patch) and receive it (read, summary, receipt)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from exchange_api.alerts.schemas.parts import (
    Distribution,
    Document,
    Handling,
    HandlingRead,
    Party,
    PastDate,
    Person,
    Route,
    StrictModel,
    SubstanceLine,
    SubstanceRead,
)
from exchange_api.alerts.vocabulary import (
    AlertStatus,
    FieldGroup,
    IncidentType,
    Stage,
)

__all__ = ["AlertCreate", "AlertPatch", "AlertRead", "AlertReceipt", "AlertSummary"]

# --- the alert ------------------------------------------------------------------------------

Reference = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Narrative = Annotated[str, StringConstraints(min_length=1, max_length=20000)]
Contact = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _AlertContent(StrictModel):
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


class AlertPatch(StrictModel):
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
    followups: int = Field(ge=0, description="How many follow-ups of the alert the caller sees.")
    stage: Stage | None = Field(
        description="The furthest step of the penal chain among those follow-ups; null if none."
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
