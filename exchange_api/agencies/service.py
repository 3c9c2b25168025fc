"""Registering agencies and clients, and disabling clients: the admin API and the CLI alike.

Every administrative change goes through one function here (so the audit trail has one place to
hook in). Services flush, never commit: the caller's transaction does.

Disabling a client takes effect on its next request: every API call and every token request looks
the client up, so its existing tokens stop working at once — no waiting for them to expire.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from uuid_utils.compat import uuid7

from exchange_api.agencies.schemas import AgencyCreate, ClientCreate
from exchange_api.auth.client_secrets import hash_client_secret, new_client_secret
from exchange_api.errors import BadRequest, Conflict, NotFound
from exchange_api.models.agencies import Agency, Client

__all__ = [
    "RegisteredClient",
    "disable_client",
    "get_agency",
    "list_agencies",
    "list_clients",
    "register_agency",
    "register_client",
]


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client: Client
    secret: str | None
    """The plaintext secret of a ``client_secret_basic`` client: to show once, never to store."""


def register_agency(session: Session, data: AgencyCreate) -> Agency:
    """Register a member agency; its name must be unused (409 otherwise)."""
    agency = Agency(name=data.name, country=data.country, kind=data.kind)
    try:
        with session.begin_nested():
            session.add(agency)
    except IntegrityError:
        raise Conflict("An agency with this name is already registered.") from None
    return agency


def get_agency(session: Session, agency_id: uuid.UUID) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("No agency has this id.")
    return agency


def list_agencies(session: Session, *, limit: int, after: uuid.UUID | None) -> list[Agency]:
    """Agencies in registration order (ids are UUIDv7), after the cursor."""
    statement = select(Agency).order_by(col(Agency.id)).limit(limit)
    if after is not None:
        statement = statement.where(col(Agency.id) > after)
    return list(session.exec(statement))


def register_client(
    session: Session,
    data: ClientCreate,
    *,
    secrets_allowed: bool,
    client_id: str | None = None,
) -> RegisteredClient:
    """Register a client of an existing agency. ``client_id`` is normally generated; the demo
    names its clients. A ``client_secret_basic`` client is refused when secrets are switched off.
    """
    get_agency(session, data.agency_id)
    secret: str | None = None
    if data.token_endpoint_auth_method == "client_secret_basic":  # noqa: S105
        if not secrets_allowed:
            raise BadRequest(
                "Client secrets are switched off (EXCHANGE_ALLOW_CLIENT_SECRETS=false): "
                "register the client's public keys for private_key_jwt.",
                slug="client-secrets-disabled",
            )
        secret = new_client_secret()
    client = Client(
        client_id=client_id or str(uuid7()),
        agency_id=data.agency_id,
        name=data.name,
        scopes=" ".join(data.scopes),
        jwks=json.dumps(data.jwks, sort_keys=True) if data.jwks is not None else None,
        secret_hash=hash_client_secret(secret) if secret is not None else None,
    )
    try:
        with session.begin_nested():
            session.add(client)
    except IntegrityError:
        raise Conflict("A client with this id is already registered.") from None
    return RegisteredClient(client=client, secret=secret)


def list_clients(
    session: Session, *, agency_id: uuid.UUID | None, limit: int, after: str | None
) -> list[Client]:
    """Clients by ``client_id``, optionally of one agency, after the cursor."""
    statement = select(Client).order_by(col(Client.client_id)).limit(limit)
    if agency_id is not None:
        statement = statement.where(col(Client.agency_id) == agency_id)
    if after is not None:
        statement = statement.where(col(Client.client_id) > after)
    return list(session.exec(statement))


def disable_client(session: Session, client_id: str) -> Client:
    """Disable a client for good: its tokens stop working and it gets no new ones.

    Disabling a disabled client changes nothing (its first ``disabled_at`` stays).
    """
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("No client has this id.")
    if client.disabled_at is None:
        client.disabled_at = datetime.now(UTC)
        session.add(client)
        session.flush()
    return client
