"""The agencies domain's queries: member agencies and their client systems.

Inserts run in a savepoint, so that a duplicate (a name or client id already taken) is reported
as ``False``/``None`` and leaves the request's transaction usable.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from exchange_api.models.agencies import Agency, AgencyKind, Client

__all__ = ["AgencyRepository"]


class AgencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Agency | Client) -> bool:
        """Insert ``row``; ``False`` if its unique name or id is already taken."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    def get_agency(self, agency_id: uuid.UUID) -> Agency | None:
        return self.session.get(Agency, agency_id)

    def agency_named(self, name: str) -> Agency | None:
        return self.session.exec(select(Agency).where(col(Agency.name) == name)).first()

    def list_agencies(
        self,
        *,
        after: uuid.UUID | None,
        limit: int,
        country: str | None = None,
        kind: AgencyKind | None = None,
        name_contains: str | None = None,
    ) -> list[Agency]:
        """Agencies in registration order (ids are UUIDv7), after ``after``; optionally of one
        country, of one kind, and whose name contains ``name_contains`` ignoring case (LIKE
        wildcards in it match themselves)."""
        statement = select(Agency).order_by(col(Agency.id)).limit(limit)
        if after is not None:
            statement = statement.where(col(Agency.id) > after)
        if country is not None:
            statement = statement.where(col(Agency.country) == country)
        if kind is not None:
            statement = statement.where(col(Agency.kind) == kind)
        if name_contains is not None:
            statement = statement.where(col(Agency.name).icontains(name_contains, autoescape=True))
        return list(self.session.exec(statement))

    def get_client(self, client_id: str) -> Client | None:
        return self.session.get(Client, client_id)

    def list_clients(
        self, *, agency_id: uuid.UUID | None, after: str | None, limit: int
    ) -> list[Client]:
        """Clients by ``client_id``, optionally of one agency, after ``after``."""
        statement = select(Client).order_by(col(Client.client_id)).limit(limit)
        if agency_id is not None:
            statement = statement.where(col(Client.agency_id) == agency_id)
        if after is not None:
            statement = statement.where(col(Client.client_id) > after)
        return list(self.session.exec(statement))

    def set_disabled(self, client: Client, at: datetime) -> None:
        client.disabled_at = at
        self.session.add(client)
        self.session.flush()

    def set_enabled(self, client: Client) -> None:
        """Enable a disabled client; the moment it was disabled becomes the time before which
        its tokens stay refused."""
        client.tokens_valid_after = client.disabled_at
        client.disabled_at = None
        self.session.add(client)
        self.session.flush()
