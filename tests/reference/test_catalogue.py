from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from exchange_api.errors import BadRequest
from exchange_api.reference.catalogue import get_substance, is_scheduled, search_substances
from exchange_api.reference.schemas import Substance
from exchange_api.reference.validators import is_valid_cas

# From the UN Tables I and II (1988 Convention), one CAS per listed form.
UN_TABLE_I = {
    "108-24-7", "89-52-1", "299-42-3", "90-82-4", "14838-15-4", "60-79-7", "113-15-5",
    "82-58-6", "103-79-7", "103-82-2", "4468-48-8", "4433-77-6", "16648-44-5",
    "25547-51-7", "80532-66-7", "41232-97-7", "120-58-1", "94-59-7", "120-57-0",
    "4676-39-5", "2167189-50-4", "13605-48-6", "28578-16-7", "21409-26-7", "39742-60-4",
    "23056-29-3", "125541-22-2", "1609-66-1", "41661-47-6", "79099-07-3", "7722-64-7",
}  # fmt: skip
UN_TABLE_II = {
    "67-64-1", "118-92-3", "60-29-7", "7647-01-0", "78-93-3", "110-89-4", "7664-93-9",
    "108-88-3",
}  # fmt: skip
NOT_SCHEDULED = {"100-52-7", "79-24-3", "74-89-5", "7723-14-0", "10034-85-2", "96-48-0", "110-63-4"}


def _raw_substances() -> list[dict[str, Any]]:
    raw = files("exchange_api.reference").joinpath("data/substances.json").read_text("utf-8")
    substances: list[dict[str, Any]] = json.loads(raw)["substances"]
    return substances


def _everything() -> list[Substance]:
    return search_substances(None, limit=1000)


def test_every_catalogue_cas_passes_its_check_digit() -> None:
    for entry in _raw_substances():
        assert is_valid_cas(entry["cas"]), entry["name"]


def test_the_catalogue_file_validates_and_lists_each_cas_once() -> None:
    entries = _raw_substances()
    TypeAdapter(list[Substance]).validate_python(entries)
    cas_numbers = [entry["cas"] for entry in entries]
    assert len(cas_numbers) == len(set(cas_numbers))


def test_the_catalogue_holds_the_un_tables_and_the_chemicals_of_interest() -> None:
    by_table: dict[str | None, set[str]] = {}
    for substance in _everything():
        by_table.setdefault(substance.un_table, set()).add(substance.cas)
    assert by_table == {"I": UN_TABLE_I, "II": UN_TABLE_II, None: NOT_SCHEDULED}


def test_norfentanyl_has_the_number_that_passes_the_check_digit() -> None:
    norfentanyl = get_substance("1609-66-1")
    assert norfentanyl is not None
    assert norfentanyl.name == "Norfentanyl"
    assert not is_valid_cas("1609-66-5")
    assert get_substance("1609-66-5") is None


def test_unverified_entries_say_so() -> None:
    pmk_ethyl_glycidate = get_substance("28578-16-7")
    assert pmk_ethyl_glycidate is not None
    assert pmk_ethyl_glycidate.note is not None
    assert "UNVERIFIED" in pmk_ethyl_glycidate.note


def test_facts_of_a_few_entries() -> None:
    bmk = get_substance("103-79-7")
    acetic_anhydride = get_substance("108-24-7")
    toluene = get_substance("108-88-3")
    assert bmk is not None
    assert (bmk.un_table, bmk.eu_category, bmk.hs_code, bmk.year_scheduled) == (
        "I", "1", "2914.31", 1988,
    )  # fmt: skip
    assert acetic_anhydride is not None
    assert (acetic_anhydride.un_table, acetic_anhydride.eu_category) == ("I", "2A")
    assert toluene is not None
    assert (toluene.un_table, toluene.eu_category) == ("II", "3")


@pytest.mark.parametrize(
    ("cas", "expected"),
    [("103-79-7", True), ("67-64-1", True), ("100-52-7", False), ("50-00-0", False)],
)
def test_is_scheduled(cas: str, expected: bool) -> None:
    assert is_scheduled(cas) is expected


def test_scheduled_flag_must_match_the_listing() -> None:
    entry = {**_raw_substances()[0], "un_table": None, "eu_category": None, "scheduled": True}
    with pytest.raises(ValidationError, match="scheduled must be true exactly when"):
        Substance.model_validate(entry)


def test_search_matches_name_synonym_or_cas_ignoring_case() -> None:
    assert [s.cas for s in search_substances("norFENTANYL", limit=10)] == ["1609-66-1"]
    assert "103-79-7" in {s.cas for s in search_substances("bmk", limit=10)}
    assert [s.cas for s in search_substances("7722-64", limit=10)] == ["7722-64-7"]
    assert search_substances("no such chemical", limit=10) == []


def test_search_is_sorted_by_name_then_cas() -> None:
    everything = _everything()
    assert everything == sorted(everything, key=lambda s: (s.name.casefold(), s.cas))


def test_search_pages_after_the_cursor_until_the_end() -> None:
    pages: list[list[Substance]] = []
    after: str | None = None
    while True:
        page = search_substances("acid", limit=3, after=after)
        if not page:
            break
        pages.append(page)
        after = page[-1].cas
    collected = [substance for page in pages for substance in page]
    assert collected == search_substances("acid", limit=1000)
    assert all(len(page) == 3 for page in pages[:-1])


def test_search_refuses_a_cursor_that_is_not_in_the_catalogue() -> None:
    with pytest.raises(BadRequest) as caught:
        search_substances(None, limit=10, after="50-00-0")
    assert caught.value.slug == "invalid-cursor"
