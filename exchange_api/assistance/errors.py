"""The problems of requests between agencies (rendered by ``exchange_api.errors``).

A request is visible to its two agencies only: to anyone else it does not exist, and the attempt
is recorded as a refusal naming it (``RequestNotFound``). The sender knows its request exists, so
a sender replying to its own request is told the truth (403 ``not-addressee``).
"""

from __future__ import annotations

import uuid

from exchange_api.errors import Conflict, NotFound, ProblemError

__all__ = ["AddresseeCannotSeeAlert", "AlreadyReplied", "NotAddressee", "RequestNotFound"]


class RequestNotFound(NotFound):
    """No such request, or not one of the caller's agency's: the same answer either way."""

    records_denial = True

    def __init__(self, request_id: uuid.UUID) -> None:
        super().__init__("No request with this id is visible to the caller.")
        self.denied_resource = request_id


class NotAddressee(ProblemError):
    status = 403
    slug = "not-addressee"
    title = "Not the addressee"

    def __init__(self) -> None:
        super().__init__("Only the agency a request is addressed to may reply to it.")


class AlreadyReplied(Conflict):
    slug = "already-replied"
    title = "Already replied"

    def __init__(self) -> None:
        super().__init__("This request has already been replied to; a reply is given once.")


class AddresseeCannotSeeAlert(ProblemError):
    """The addressee may not see the alert: asking it would show it the alert's existence."""

    status = 422
    slug = "addressee-cannot-see-alert"
    title = "Addressee cannot see the alert"

    def __init__(self) -> None:
        super().__init__(
            "The addressee agency may not see this alert (its distribution does not include it).",
            extra={"errors": [{"loc": ["body", "to"], "msg": "cannot see this alert"}]},
        )
