"""The precursor reference catalogue, loaded once from the package data and held in memory.

The catalogue is small, read-only and the same for every caller, so it is validated at import
(a broken data file stops the service from starting) and then served from memory.

Every entry has a stable ``key``: its CAS number, or ``name:`` and its normalised name for the
entries known by name only (groups of esters, designer precursors without a number). The key is
what listing pages by and what alerts' substances are counted and searched by
(:func:`substance_key`). A substance an officer names is matched to an entry by CAS number
(including the other numbers some registers give) or by its name or a synonym, compared in the
normalised form of blind-index names (:func:`exchange_api.crypto.blind_index.normalise_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from pydantic import BaseModel, ConfigDict

from exchange_api.crypto.blind_index import normalise_text
from exchange_api.kit.pagination import InvalidCursor
from exchange_api.reference.schemas import Substance, name_key

__all__ = [
    "catalogue_keys",
    "get_substance",
    "is_scheduled",
    "match_substance",
    "search_substances",
    "substance_key",
]


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str
    substances: tuple[Substance, ...]


@dataclass(frozen=True)
class _Catalogue:
    by_cas: dict[str, Substance]  # every number of an entry, its other numbers included
    by_name: dict[str, Substance]  # normalised name and synonyms -> entry
    ordered: tuple[Substance, ...]  # by name (case-insensitive), then key: the listing order
    position: dict[str, int]  # key -> index in ``ordered``


def _sort_key(substance: Substance) -> tuple[str, str]:
    return (substance.name.casefold(), substance.key)


def _index(pairs: list[tuple[str, Substance]], what: str) -> dict[str, Substance]:
    index: dict[str, Substance] = {}
    for value, substance in pairs:
        if index.setdefault(value, substance) is not substance:
            raise ValueError(f"the substance catalogue gives one {what} to two entries: {value!r}")
    return index


def _load() -> _Catalogue:
    raw = (files("exchange_api.reference") / "data" / "substances.json").read_text(encoding="utf-8")
    substances = _CatalogueFile.model_validate_json(raw).substances
    by_cas = _index(
        [(cas, s) for s in substances for cas in (s.cas, *s.other_cas) if cas is not None],
        "CAS number",
    )
    by_name = _index(
        [
            (normalise_text(name), s)
            for s in substances
            for name in dict.fromkeys((s.name, *s.synonyms))
        ],
        "name",
    )
    ordered = tuple(sorted(substances, key=_sort_key))
    position = _index_positions(ordered)
    return _Catalogue(by_cas=by_cas, by_name=by_name, ordered=ordered, position=position)


def _index_positions(ordered: tuple[Substance, ...]) -> dict[str, int]:
    position = {substance.key: index for index, substance in enumerate(ordered)}
    if len(position) != len(ordered):
        raise ValueError("the substance catalogue gives one key to two entries")
    return position


_CATALOGUE = _load()
_KEYS = frozenset(_CATALOGUE.position)


def get_substance(cas: str) -> Substance | None:
    """The substance with this CAS number (its own or another it is known by), or None."""
    return _CATALOGUE.by_cas.get(cas)


def is_scheduled(cas: str) -> bool:
    """Whether the CAS number is on a UN table or an EU category; unknown numbers are not."""
    substance = get_substance(cas)
    return substance is not None and substance.scheduled


def match_substance(cas: str | None, name: str | None) -> Substance | None:
    """The entry a substance line names: by its CAS number if listed, else by its name.

    A listed CAS number wins over the name. An unlisted number with a listed name still
    matches by the name, so an officer who typed "BMK" is told it is scheduled whatever number
    came with it (:func:`substance_key` keeps that number as the line's identity).
    """
    if cas is not None and (listed := _CATALOGUE.by_cas.get(cas)) is not None:
        return listed
    if name is not None:
        return _CATALOGUE.by_name.get(normalise_text(name))
    return None


def substance_key(cas: str | None, name: str | None) -> str:
    """What a substance line is counted and searched by.

    A CAS number decides when given (the catalogue's own number for one of its other numbers);
    a line without one takes the key of the entry its name matches, or ``name:`` and its
    normalised name. Raises ``ValueError`` for a line with neither (the API refuses it first).
    """
    if cas is not None:
        listed = _CATALOGUE.by_cas.get(cas)
        return listed.key if listed is not None else cas
    if name is None:
        raise ValueError("a substance needs a cas or a name")
    listed = _CATALOGUE.by_name.get(normalise_text(name))
    return listed.key if listed is not None else name_key(name)


def catalogue_keys() -> frozenset[str]:
    """The keys of every entry: a substance key outside them is uncatalogued."""
    return _KEYS


def _matches(substance: Substance, needle: str) -> bool:
    return (
        needle in substance.name.casefold()
        or any(needle in cas for cas in (substance.cas, *substance.other_cas) if cas is not None)
        or any(needle in synonym.casefold() for synonym in substance.synonyms)
    )


def search_substances(q: str | None, limit: int, after: str | None = None) -> list[Substance]:
    """Up to ``limit`` substances whose name, synonym or CAS number contains ``q``.

    Matching ignores case; ``q=None`` matches everything. Results follow the listing order;
    ``after`` is the key of the last substance of the previous page (the cursor). Raises
    :class:`~exchange_api.kit.pagination.InvalidCursor` if ``after`` is not a catalogue key.
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
