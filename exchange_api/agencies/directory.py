"""The directory (docs/contract.md, "Directory"): every member may list the member agencies and
read one, to find the ids it needs for ``distribution.agencies`` and for requests.

Any valid token will do, whatever its scopes: the ``/v1`` router authenticates the caller, and
``AnyScope`` says so in the OpenAPI document. The admin API (``/v1/admin/agencies``) stays the
place where agencies are registered.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from exchange_api.agencies import service
from exchange_api.agencies.schemas import AgencyDirectory, AgencyEntry
from exchange_api.audit.recorder import AuditDep
from exchange_api.auth.scopes import AnyScope
from exchange_api.errors import NotFound
from exchange_api.kit.dependencies import SessionDep
from exchange_api.kit.pagination import CursorQuery, LimitQuery, next_link
from exchange_api.kit.query_params import forbid_unknown_query_params
from exchange_api.models.agencies import AgencyKind
from exchange_api.reference.validators import CountryCode

__all__ = ["router"]

router = APIRouter(prefix="/agencies", tags=["directory"])

NameQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Part of the agency's name, ignoring case.",
    ),
]


@router.get(
    "",
    response_model=AgencyDirectory,
    dependencies=[
        Depends(forbid_unknown_query_params({"country", "kind", "q", "limit", "cursor"}))
    ],
)
def list_agencies(
    _caller: AnyScope,
    session: SessionDep,
    audit: AuditDep,
    request: Request,
    response: Response,
    country: Annotated[CountryCode | None, Query(description="Only this country's.")] = None,
    kind: Annotated[AgencyKind | None, Query(description="Only agencies of this kind.")] = None,
    q: NameQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> AgencyDirectory:
    """The member agencies, oldest first: id, name, country and kind. Any valid token may read
    them. Filters combine with AND: `country`, `kind`, and `q`, a part of the name (ignoring
    case). Pages follow `next_cursor` (also a `Link: rel="next"` header)."""
    page = service.agency_directory(
        session,
        audit,
        country=country,
        kind=kind,
        name_contains=q,
        cursor=cursor,
        limit=limit,
    )
    response.headers.update(next_link(request.url, page.next_cursor))
    return page


@router.get(
    "/{agency_id}",
    response_model=AgencyEntry,
    dependencies=[Depends(forbid_unknown_query_params(()))],
    responses=NotFound.response("No agency has this id."),
)
def read_agency(
    agency_id: Annotated[uuid.UUID, Path(description="The agency's id.")],
    _caller: AnyScope,
    session: SessionDep,
    audit: AuditDep,
) -> AgencyEntry:
    """One member agency: id, name, country and kind."""
    return service.directory_entry(session, audit, agency_id)
