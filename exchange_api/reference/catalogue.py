"""The precursor reference catalogue, loaded once from the package data and held in memory.

The catalogue is small, read-only and the same for every caller, so it is validated at import
(a broken data file stops the service from starting) and then served from memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from pydantic import BaseModel, ConfigDict

from exchange_api.kit.pagination import InvalidCursor
from exchange_api.reference.schemas import Substance

__all__ = ["get_substance", "is_scheduled", "search_substances"]


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str
    substances: tuple[Substance, ...]


@dataclass(frozen=True)
class _Catalogue:
    by_cas: dict[str, Substance]
    ordered: tuple[Substance, ...]  # by name (case-insensitive), then CAS: the listing order
    position: dict[str, int]  # CAS number -> index in ``ordered``


def _sort_key(substance: Substance) -> tuple[str, str]:
    return (substance.name.casefold(), substance.cas)


def _load() -> _Catalogue:
    raw = (files("exchange_api.reference") / "data" / "substances.json").read_text(encoding="utf-8")
    substances = _CatalogueFile.model_validate_json(raw).substances
    by_cas = {substance.cas: substance for substance in substances}
    if len(by_cas) != len(substances):
        raise ValueError("the substance catalogue lists a CAS number more than once")
    ordered = tuple(sorted(substances, key=_sort_key))
    position = {substance.cas: index for index, substance in enumerate(ordered)}
    return _Catalogue(by_cas=by_cas, ordered=ordered, position=position)


_CATALOGUE = _load()


def get_substance(cas: str) -> Substance | None:
    """The substance with this CAS number, or None if the catalogue does not list it."""
    return _CATALOGUE.by_cas.get(cas)


def is_scheduled(cas: str) -> bool:
    """Whether the CAS number is on a UN table or an EU category; unknown numbers are not."""
    substance = get_substance(cas)
    return substance is not None and substance.scheduled


def _matches(substance: Substance, needle: str) -> bool:
    return (
        needle in substance.name.casefold()
        or needle in substance.cas
        or any(needle in synonym.casefold() for synonym in substance.synonyms)
    )


def search_substances(q: str | None, limit: int, after: str | None = None) -> list[Substance]:
    """Up to ``limit`` substances whose name, synonym or CAS number contains ``q``.

    Matching ignores case; ``q=None`` matches everything. Results follow the listing order;
    ``after`` is the CAS number of the last substance of the previous page (the cursor).
    Raises :class:`~exchange_api.kit.pagination.InvalidCursor` if ``after`` is not a catalogue
    CAS number.
    """
    start = 0
    if after is not None:
        if after not in _CATALOGUE.position:
            raise InvalidCursor()
        start = _CATALOGUE.position[after] + 1
    needle = q.casefold() if q is not None else None
    page: list[Substance] = []
    for substance in _CATALOGUE.ordered[start:]:
        if len(page) >= limit:
            break
        if needle is None or _matches(substance, needle):
            page.append(substance)
    return page
