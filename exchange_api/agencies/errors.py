"""The problems the admin API raises (rendered, and refusals audited, by ``exchange_api.errors``).

A client outside the caller's reach is answered like an absent one (404, and recorded as a
refusal): an agency's administrator learns nothing about other agencies' systems. Agencies
themselves are known to every member, so registering for another agency is a plain 403.
"""

from __future__ import annotations

from exchange_api.errors import NotFound, ProblemError

__all__ = [
    "AgencyNotFound",
    "AgencyOutOfReach",
    "ClientNotFound",
    "OwnClientUnchangeable",
    "ScopesNotGrantable",
]


class AgencyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No agency has this id.")


class ClientNotFound(NotFound):
    """No such client, or one of another agency than the caller's (the same answer)."""

    records_denial = True

    def __init__(self, client_id: str) -> None:
        super().__init__("No client with this id is within the caller's reach.")
        self.client_id = client_id


class AgencyOutOfReach(ProblemError):
    status = 403
    slug = "agency-out-of-reach"
    title = "Agency out of reach"

    def __init__(self) -> None:
        super().__init__(
            "Only the network operator (scope network:admin) registers clients for another "
            "agency than the caller's."
        )


class ScopesNotGrantable(ProblemError):
    """Scopes the caller may not grant: ones it does not hold, ``network:admin`` (command line
    only), or ``audit:read`` unless it is the network operator."""

    status = 403
    slug = "scopes-not-grantable"
    title = "Scopes not grantable"

    def __init__(self, scopes: list[str]) -> None:
        super().__init__(
            "A client grants only scopes it holds; network:admin is granted at the command line "
            "only, and audit:read by the network operator only.",
            extra={"scopes": scopes},
        )


class OwnClientUnchangeable(ProblemError):
    status = 403
    slug = "own-client"
    title = "A client cannot change itself"

    def __init__(self) -> None:
        super().__init__("A client cannot disable or enable itself.")
