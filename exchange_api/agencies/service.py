"""Registering agencies and clients, listing them, and disabling clients: the admin API and the
CLI alike.

Who may do what to which client is decided by the :class:`~exchange_api.agencies.authority.
Administrator` each client function is given: the request's caller, or ``COMMAND_LINE``.

Every administrative change goes through one function here, which records it in the audit log
through the recorder it is given (the request's, or the operator's for the CLI), in the same
transaction. Services flush, never commit: the caller's transaction does.

Disabling a client takes effect on its next request: every API call and every token request looks
the client up, so its existing tokens stop working at once — no waiting for them to expire.
Enabling it again (``exchange-api clients enable``) does not bring those tokens back: the client
keeps the moment it was disabled as ``tokens_valid_after``, and a token issued in or before that
second is refused (:mod:`exchange_api.auth.repository`); the client asks for new ones.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session
from uuid_utils.compat import uuid7

from exchange_api.agencies.authority import Administrator
from exchange_api.agencies.errors import AgencyNotFound, ClientNotFound
from exchange_api.agencies.repository import AgencyRepository
from exchange_api.agencies.schemas import (
    AgencyCreate,
    AgencyDirectory,
    AgencyEntry,
    AgencyList,
    AgencyRead,
    ClientCreate,
    ClientList,
    ClientRead,
)
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.client_secrets import hash_client_secret, new_client_secret
from exchange_api.errors import BadRequest, Conflict
from exchange_api.kit.pagination import TEXT_KEYS, UUID_KEYS, page_of
from exchange_api.models.agencies import Agency, AgencyKind, Client

__all__ = [
    "RegisteredClient",
    "agency_directory",
    "directory_entry",
    "disable_client",
    "enable_client",
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


def register_agency(session: Session, data: AgencyCreate, audit: AuditRecorder) -> Agency:
    """Register a member agency; its name must be unused (409 otherwise)."""
    agency = Agency(name=data.name, country=data.country, kind=data.kind)
    if not AgencyRepository(session).add(agency):
        raise Conflict("An agency with this name is already registered.")
    audit.record(AuditAction.ADMIN_AGENCY_CREATE, resource_ids=[agency.id])
    return agency


def get_agency(session: Session, agency_id: uuid.UUID) -> Agency:
    agency = AgencyRepository(session).get_agency(agency_id)
    if agency is None:
        raise AgencyNotFound()
    return agency


def _agency_page(
    session: Session,
    *,
    cursor: str | None,
    limit: int,
    country: str | None = None,
    kind: AgencyKind | None = None,
    name_contains: str | None = None,
) -> tuple[list[Agency], str | None]:
    after = UUID_KEYS.decode(cursor) if cursor is not None else None
    found = AgencyRepository(session).list_agencies(
        after=after, limit=limit + 1, country=country, kind=kind, name_contains=name_contains
    )
    return page_of(found, limit, UUID_KEYS, lambda agency: agency.id)


def list_agencies(
    session: Session, audit: AuditRecorder, *, cursor: str | None, limit: int
) -> AgencyList:
    """A page of agencies in registration order."""
    page, next_cursor = _agency_page(session, cursor=cursor, limit=limit)
    audit.record(AuditAction.ADMIN_AGENCY_LIST, result_count=len(page))
    return AgencyList.model_validate(
        {"items": [AgencyRead.of(agency) for agency in page], "next_cursor": next_cursor}
    )


def agency_directory(
    session: Session,
    audit: AuditRecorder,
    *,
    country: str | None,
    kind: AgencyKind | None,
    name_contains: str | None,
    cursor: str | None,
    limit: int,
) -> AgencyDirectory:
    """A page of the directory every member may read, in registration order, filtered."""
    page, next_cursor = _agency_page(
        session,
        cursor=cursor,
        limit=limit,
        country=country,
        kind=kind,
        name_contains=name_contains,
    )
    audit.record(AuditAction.AGENCY_LIST, result_count=len(page))
    return AgencyDirectory(
        items=[AgencyEntry.of_agency(agency) for agency in page], next_cursor=next_cursor
    )


def directory_entry(session: Session, audit: AuditRecorder, agency_id: uuid.UUID) -> AgencyEntry:
    """One agency of the directory (404 if none has this id)."""
    entry = AgencyEntry.of_agency(get_agency(session, agency_id))
    audit.record(AuditAction.AGENCY_READ, resource_ids=[agency_id])
    return entry


def register_client(
    session: Session,
    data: ClientCreate,
    audit: AuditRecorder,
    by: Administrator,
    *,
    secrets_allowed: bool,
    client_id: str | None = None,
) -> RegisteredClient:
    """Register a client of an existing agency, if ``by`` reaches that agency and may grant the
    scopes. ``client_id`` is normally generated; the demo names its clients. A
    ``client_secret_basic`` client is refused when secrets are switched off.
    """
    get_agency(session, data.agency_id)
    by.check_registration(data.agency_id, data.scopes)
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
    if not AgencyRepository(session).add(client):
        raise Conflict("A client with this id is already registered.")
    audit.record(AuditAction.ADMIN_CLIENT_CREATE, resource_ids=[client.client_id])
    return RegisteredClient(client=client, secret=secret)


def list_clients(
    session: Session,
    audit: AuditRecorder,
    by: Administrator,
    *,
    agency_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> ClientList:
    """A page of clients by ``client_id``, optionally of one agency: only those of agencies
    ``by`` reaches (an agency's administrator sees its own agency's, and asking for another
    agency's gives an empty page)."""
    after = TEXT_KEYS.decode(cursor) if cursor is not None else None
    if not by.is_network_operator:
        agency_id = agency_id if agency_id is not None else by.agency_id
    found: list[Client] = []
    if agency_id is None or by.reaches(agency_id):
        found = AgencyRepository(session).list_clients(
            agency_id=agency_id, after=after, limit=limit + 1
        )
    page, next_cursor = page_of(found, limit, TEXT_KEYS, lambda client: client.client_id)
    audit.record(AuditAction.ADMIN_CLIENT_LIST, result_count=len(page))
    return ClientList.model_validate(
        {"items": [ClientRead.of(client) for client in page], "next_cursor": next_cursor}
    )


def _client_to_change(session: Session, client_id: str, by: Administrator) -> Client:
    client = AgencyRepository(session).get_client(client_id)
    if client is None:
        raise ClientNotFound(client_id)
    by.check_change(client)
    return client


def disable_client(
    session: Session, client_id: str, audit: AuditRecorder, by: Administrator
) -> Client:
    """Disable a client: its tokens stop working and it gets no new ones.

    Disabling a disabled client changes nothing (its first ``disabled_at`` stays).
    """
    repository = AgencyRepository(session)
    client = _client_to_change(session, client_id, by)
    if client.disabled_at is None:
        repository.set_disabled(client, datetime.now(UTC))
    audit.record(AuditAction.ADMIN_CLIENT_DISABLE, resource_ids=[client.client_id])
    return client


def enable_client(
    session: Session, client_id: str, audit: AuditRecorder, by: Administrator
) -> Client:
    """Enable a disabled client again. Its tokens issued before it was disabled stay refused:
    the moment of the disable becomes its ``tokens_valid_after``.

    Enabling an enabled client changes nothing.
    """
    repository = AgencyRepository(session)
    client = _client_to_change(session, client_id, by)
    if client.disabled_at is not None:
        repository.set_enabled(client)
    audit.record(AuditAction.ADMIN_CLIENT_ENABLE, resource_ids=[client.client_id])
    return client
