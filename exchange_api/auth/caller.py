"""Who is calling: what a verified access token says, as the rest of the app sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from exchange_api.models.agencies import AgencyKind

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request.

    ``subject`` is the token's ``sub``: the officer asserted by the client (JWT-bearer grant), or
    the client itself (client credentials). Every audit record carries it.
    """

    subject: str
    client_id: str
    agency_id: uuid.UUID
    agency_kind: AgencyKind
    scopes: frozenset[str]
    token_id: str

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
