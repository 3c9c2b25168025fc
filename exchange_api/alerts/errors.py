"""The problems the alerts domain raises (rendered by the one handler in ``exchange_api.errors``).

``AlertNotFound`` carries the alert id so that the audit layer can record a denied access to an
alert the caller may not see, while the caller learns nothing: absent and invisible look the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from exchange_api.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ProblemError,
)

__all__ = [
    "AlertNotFound",
    "AlertShredded",
    "BodyInvalid",
    "IdempotencyKeyReused",
    "NotAlertOwner",
    "StaleVersion",
    "UnsupportedMediaType",
    "VersionRequired",
    "issues_of",
]


class AlertNotFound(NotFound):
    """No such alert, or one the caller may not see: the same answer either way (and the same
    ``access.denied`` entry naming the id, for the auditor)."""

    records_denial = True

    def __init__(self, alert_id: uuid.UUID) -> None:
        super().__init__("No alert with this id is visible to the caller.")
        self.alert_id = alert_id
        self.denied_resource = alert_id


class AlertShredded(ProblemError):
    """A visible alert past its review date: its sensitive content was destroyed for good.

    Carries the alert id, so that the attempt is recorded like a refusal (``access.denied``)."""

    status = 410
    slug = "alert-shredded"
    title = "Alert content destroyed"
    records_denial = True

    def __init__(self, alert_id: uuid.UUID, shredded_at: datetime | None) -> None:
        shredded_on = shredded_at.date().isoformat() if shredded_at is not None else None
        super().__init__(
            "This alert passed its review date and its sensitive content was destroyed"
            f"{f' on {shredded_on}' if shredded_on else ''}; its routing facts remain in "
            "search results.",
            extra={"shredded_on": shredded_on},
        )
        self.alert_id = alert_id
        self.denied_resource = alert_id


class NotAlertOwner(ProblemError):
    """A visible alert that only its reporting agency may change."""

    status = 403
    slug = "not-owner"
    title = "Not the reporting agency"

    def __init__(self) -> None:
        super().__init__("Only the reporting agency may change an alert.")


class VersionRequired(PreconditionRequired):
    def __init__(self) -> None:
        super().__init__(
            'Changing an alert needs If-Match with the ETag of the version changed, e.g. "v3".'
        )


class StaleVersion(PreconditionFailed):
    def __init__(self, current_etag: str) -> None:
        super().__init__(
            "The alert has changed since that version; read it again and retry.",
            headers={"ETag": current_etag},
        )


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency key reused"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used with a different request body.")


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class BodyInvalid(ProblemError):
    """A body that fails a check beyond its schema; shaped like a schema validation failure."""

    status = 422
    slug = "validation-error"
    title = "Validation failed"

    def __init__(self, errors: Sequence[dict[str, object]]) -> None:
        super().__init__(
            "The request body does not match the schema; see errors.",
            extra={"errors": list(errors)},
        )


def issues_of(exc: ValidationError, loc_prefix: Sequence[int | str]) -> list[dict[str, object]]:
    """A pydantic failure as ``{loc, msg}`` issues under ``loc_prefix``; never the input."""
    return [
        {"loc": [*loc_prefix, *error["loc"]], "msg": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
