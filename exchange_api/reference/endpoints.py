"""HTTP endpoints of the precursor reference catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from exchange_api.errors import NotFound
from exchange_api.kit.pagination import TEXT_KEYS, CursorQuery, LimitQuery, page_of
from exchange_api.kit.query_params import forbid_unknown_query_params
from exchange_api.reference import catalogue
from exchange_api.reference.schemas import Substance, SubstanceList
from exchange_api.reference.validators import CasNumber

__all__ = ["router"]

router = APIRouter(prefix="/substances", tags=["reference"])


@router.get(
    "",
    response_model=SubstanceList,
    dependencies=[Depends(forbid_unknown_query_params({"q", "limit", "cursor"}))],
)
async def list_substances(
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Case-insensitive text to find in the name, a synonym or a CAS number.",
        ),
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> SubstanceList:
    """List the precursor catalogue: UN Tables I and II, EU categories, and chemicals of interest.

    Sorted by name, then `key` (the CAS number, or `name:` and the normalised name for entries
    known by name only, such as groups of esters). A substance absent from the catalogue is not
    thereby uncontrolled: alerts accept any valid CAS number or any name and flag unknown ones
    `scheduled: false`.
    """
    after = TEXT_KEYS.decode(cursor) if cursor is not None else None
    found = catalogue.search_substances(q, limit + 1, after=after)
    page, next_cursor = page_of(found, limit, TEXT_KEYS, lambda substance: substance.key)
    return SubstanceList(items=page, next_cursor=next_cursor)


@router.get(
    "/{cas}",
    response_model=Substance,
    dependencies=[Depends(forbid_unknown_query_params(()))],
    responses=NotFound.response("A well-formed CAS number the catalogue does not list."),
)
async def get_substance(
    cas: Annotated[CasNumber, Path(description="CAS Registry Number, e.g. 103-79-7.")],
) -> Substance:
    """One substance of the catalogue by its CAS Registry Number.

    Another number some registers give for an entry finds that entry (its `cas` is the
    catalogue's). Entries known by name only are found by `GET /v1/substances?q=`. A malformed
    CAS number (wrong shape or check digit) is refused; a well-formed number the catalogue does
    not list answers 404.
    """
    substance = catalogue.get_substance(cas)
    if substance is None:
        raise NotFound("The catalogue does not list this CAS number.")
    return substance
