"""The admin API: agencies (scope ``network:admin``, the network operator) and clients (scope
``clients:admin``: the caller's own agency's, or every agency's for the network operator; the
rules are in :mod:`exchange_api.agencies.authority`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from exchange_api.agencies import service
from exchange_api.agencies.authority import Administrator
from exchange_api.agencies.errors import (
    AgencyNotFound,
    ClientNotFound,
    OwnClientUnchangeable,
    ScopesNotGrantable,
)
from exchange_api.agencies.schemas import (
    AgencyCreate,
    AgencyList,
    AgencyRead,
    ClientCreate,
    ClientList,
    ClientRead,
    ClientRegistered,
)
from exchange_api.audit.recorder import AuditDep
from exchange_api.auth.scopes import ClientsAdmin, NetworkAdmin
from exchange_api.auth.server import OAuthServerDep
from exchange_api.errors import Conflict, responses
from exchange_api.kit.dependencies import SessionDep
from exchange_api.kit.pagination import CursorQuery, LimitQuery
from exchange_api.kit.query_params import forbid_unknown_query_params

__all__ = ["router"]

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/agencies",
    status_code=201,
    response_model=AgencyRead,
    responses=Conflict.response("An agency with this name is already registered."),
)
def create_agency(
    body: AgencyCreate, _caller: NetworkAdmin, session: SessionDep, audit: AuditDep
) -> AgencyRead:
    """Register a member agency. Its name must be unused (409 otherwise)."""
    return AgencyRead.of(service.register_agency(session, body, audit))


@router.get(
    "/agencies",
    response_model=AgencyList,
    dependencies=[Depends(forbid_unknown_query_params({"limit", "cursor"}))],
)
def list_agencies(
    _caller: NetworkAdmin,
    session: SessionDep,
    audit: AuditDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> AgencyList:
    """List the member agencies, oldest first."""
    return service.list_agencies(session, audit, cursor=cursor, limit=limit)


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientRegistered,
    responses=responses(
        AgencyNotFound.response("No agency has this id."),
        ScopesNotGrantable.response(
            "Another agency than the caller's without network:admin (agency-out-of-reach), or "
            "scopes the caller may not grant (scopes-not-grantable)."
        ),
        Conflict.response("A client with this id is already registered."),
    ),
)
def create_client(
    body: ClientCreate,
    caller: ClientsAdmin,
    session: SessionDep,
    server: OAuthServerDep,
    audit: AuditDep,
    response: Response,
) -> ClientRegistered:
    """Register a client system of an agency.

    With `private_key_jwt` (give `jwks`) the client authenticates with a JWT signed by one of its
    keys; with `client_secret_basic` (development only, when enabled) the answer holds the
    client's secret — the only time it is shown.

    Without `network:admin` the caller registers clients of its own agency only. A caller grants
    only scopes it holds; `network:admin` is granted at the command line only, and `audit:read`
    by the network operator only.
    """
    registered = service.register_client(
        session,
        body,
        audit,
        Administrator.of(caller),
        secrets_allowed=server.allow_client_secrets,
    )
    response.headers["Cache-Control"] = "no-store"
    return ClientRegistered.of_new(registered.client, registered.secret)


@router.get(
    "/clients",
    response_model=ClientList,
    dependencies=[Depends(forbid_unknown_query_params({"agency_id", "limit", "cursor"}))],
)
def list_clients(
    caller: ClientsAdmin,
    session: SessionDep,
    audit: AuditDep,
    agency_id: Annotated[uuid.UUID | None, Query(description="Only this agency's.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> ClientList:
    """List the registered clients, by client id: the caller's own agency's, or every agency's
    for the network operator."""
    return service.list_clients(
        session, audit, Administrator.of(caller), agency_id=agency_id, cursor=cursor, limit=limit
    )


_CHANGE_REFUSALS = responses(
    ClientNotFound.response("No such client within the caller's reach."),
    OwnClientUnchangeable.response(
        "The caller itself (own-client), or a client holding scopes the caller could not grant "
        "(scopes-not-grantable)."
    ),
)


@router.post("/clients/{client_id}/disable", response_model=ClientRead, responses=_CHANGE_REFUSALS)
def disable_client(
    client_id: Annotated[str, Path(max_length=64)],
    caller: ClientsAdmin,
    session: SessionDep,
    audit: AuditDep,
) -> ClientRead:
    """Disable a client: from now on its tokens are refused and it gets no new ones."""
    return ClientRead.of(
        service.disable_client(session, client_id, audit, Administrator.of(caller))
    )


@router.post("/clients/{client_id}/enable", response_model=ClientRead, responses=_CHANGE_REFUSALS)
def enable_client(
    client_id: Annotated[str, Path(max_length=64)],
    caller: ClientsAdmin,
    session: SessionDep,
    audit: AuditDep,
) -> ClientRead:
    """Enable a disabled client: it may get new tokens again, but every token issued before it
    was disabled stays refused."""
    return ClientRead.of(service.enable_client(session, client_id, audit, Administrator.of(caller)))
