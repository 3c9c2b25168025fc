"""Who administers clients, and how far that reaches: the one place the admin rules live.

Two kinds of administrator exist (docs/security.md):

- **The operator at the command line** (``exchange-api agencies``/``clients``): whoever can run
  the command holds the database and the keys already, so it reaches every agency and may grant
  every scope. It is the only one that may grant ``network:admin``: that is how "the operator's
  client" is identified — a client whose ``network:admin`` was granted at the command line.
- **A client through the admin API**. With ``clients:admin`` it reaches the clients of its own
  agency; with ``network:admin`` too, the clients of every agency. Either way it grants only
  scopes it holds itself, never ``network:admin``, and ``audit:read`` (a network-wide read) only
  if it is the network operator. It changes (disables, enables) only clients whose scopes it
  could have granted, and never itself — so no client can lift itself or another above its own
  reach, and none can lock the operator's clients out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from exchange_api.agencies.errors import (
    AgencyOutOfReach,
    ClientNotFound,
    OwnClientUnchangeable,
    ScopesNotGrantable,
)
from exchange_api.auth.caller import Caller
from exchange_api.auth.scopes import Scope
from exchange_api.models.agencies import Client

__all__ = ["COMMAND_LINE", "Administrator"]

_OPERATOR_ONLY = frozenset({Scope.NETWORK_ADMIN.value})
"""Never granted through the API, whoever asks."""
_NETWORK_WIDE = frozenset({Scope.AUDIT_READ.value})
"""Granted through the API by the network operator only (and only if it holds them)."""


@dataclass(frozen=True, slots=True)
class Administrator:
    """The party registering or changing clients; ``client_id`` is ``None`` at the command line."""

    client_id: str | None
    agency_id: uuid.UUID | None
    scopes: frozenset[str]

    @classmethod
    def of(cls, caller: Caller) -> Administrator:
        return cls(client_id=caller.client_id, agency_id=caller.agency_id, scopes=caller.scopes)

    @property
    def is_command_line(self) -> bool:
        return self.client_id is None

    @property
    def is_network_operator(self) -> bool:
        return self.is_command_line or Scope.NETWORK_ADMIN.value in self.scopes

    def reaches(self, agency_id: uuid.UUID) -> bool:
        """Whether this administrator may act on the clients of ``agency_id``."""
        return self.is_network_operator or agency_id == self.agency_id

    def ungrantable(self, scopes: Iterable[str]) -> list[str]:
        """The scopes among ``scopes`` that this administrator may not grant, sorted."""
        if self.is_command_line:
            return []
        refused = {
            scope
            for scope in scopes
            if scope not in self.scopes
            or scope in _OPERATOR_ONLY
            or (scope in _NETWORK_WIDE and not self.is_network_operator)
        }
        return sorted(refused)

    def check_registration(self, agency_id: uuid.UUID, scopes: Iterable[str]) -> None:
        """Refuse a client for an agency out of reach (403) or with scopes not grantable (403)."""
        if not self.reaches(agency_id):
            raise AgencyOutOfReach()
        if refused := self.ungrantable(scopes):
            raise ScopesNotGrantable(refused)

    def check_change(self, client: Client) -> None:
        """Refuse to disable or enable ``client`` if it is out of reach (404, as if absent), if it
        holds scopes this administrator could not grant (403), or if it is the caller (403)."""
        if not self.reaches(client.agency_id):
            raise ClientNotFound(client.client_id)
        if client.client_id == self.client_id:
            raise OwnClientUnchangeable()
        if refused := self.ungrantable(client.scopes.split()):
            raise ScopesNotGrantable(refused)


COMMAND_LINE = Administrator(client_id=None, agency_id=None, scopes=frozenset())
"""The operator running ``exchange-api``: every agency, every scope."""
