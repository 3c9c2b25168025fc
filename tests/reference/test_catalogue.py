from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from exchange_api.errors import BadRequest
from exchange_api.reference.catalogue import (
    catalogue_keys,
    get_substance,
    is_scheduled,
    match_substance,
    search_substances,
    substance_key,
)
from exchange_api.reference.schemas import Substance
from exchange_api.reference.validators import is_valid_cas

# Every row of the network's precursor reference (§3.1-§3.3; the file is not in this repo),
# written out here: (a name or synonym as the reference gives it, the CAS number it gives or
# None, UN table, EU category). Each must be found by its name and, when given, its number.
REFERENCE_ROWS: list[tuple[str, str | None, str | None, str | None]] = [
    # §3.1 Table I
    ("Acetic anhydride", "108-24-7", "I", "2A"),
    ("N-Acetylanthranilic acid", "89-52-1", "I", "1"),
    ("Ephedrine", "299-42-3", "I", "1"),
    ("Pseudoephedrine", "90-82-4", "I", "1"),
    ("Norephedrine", "14838-15-4", "I", "1"),
    ("Phenylpropanolamine", "14838-15-4", "I", "1"),
    ("Ergometrine", "60-79-7", "I", "1"),
    ("Ergotamine", "113-15-5", "I", "1"),
    ("Lysergic acid", "82-58-6", "I", "1"),
    ("1-Phenyl-2-propanone", "103-79-7", "I", "1"),
    ("P-2-P", "103-79-7", "I", "1"),
    ("BMK", "103-79-7", "I", "1"),
    ("Phenylacetic acid", "103-82-2", "I", "2B"),
    ("APAAN", "4468-48-8", "I", "1"),
    ("alpha-phenylacetoacetonitrile", "4468-48-8", "I", "1"),
    ("APAA", "4433-77-6", "I", "1"),
    ("alpha-phenylacetoacetamide", "4433-77-6", "I", "1"),
    ("MAPA", "16648-44-5", "I", "1"),
    ("methyl alpha-phenylacetoacetate", "16648-44-5", "I", "1"),
    ("P-2-P methyl glycidic acid", "25547-51-7", "I", "1"),
    ("BMK glycidic acid", "25547-51-7", "I", "1"),
    ("BMK methyl glycidate", "80532-66-7", "I", "1"),
    ("BMK ethyl glycidate", "77-83-8", "I", None),
    ("ethyl methylphenylglycidate", "77-83-8", "I", None),
    ("strawberry aldehyde", "41232-97-7", "I", None),
    ("Esters of P-2-P methyl glycidic acid", None, "I", None),
    ("Isosafrole", "120-58-1", "I", "1"),
    ("Safrole", "94-59-7", "I", "1"),
    ("Piperonal", "120-57-0", "I", "1"),
    ("3,4-MDP-2-P", "4676-39-5", "I", "1"),
    ("PMK", "4676-39-5", "I", "1"),
    ("3,4-MDP-2-P methyl glycidic acid", "2167189-50-4", "I", "1"),
    ("PMK glycidic acid", "2167189-50-4", "I", "1"),
    ("PMK methyl glycidate", "13605-48-6", "I", "1"),
    ("PMK ethyl glycidate", "28578-16-7", "I", "1"),
    ("Esters of 3,4-MDP-2-P methyl glycidic acid", None, "I", None),
    ("ANPP", "21409-26-7", "I", "1"),
    ("4-anilino-N-phenethylpiperidine", "21409-26-7", "I", "1"),
    ("NPP", "39742-60-4", "I", "1"),
    ("N-phenethyl-4-piperidone", "39742-60-4", "I", "1"),
    ("4-AP", "23056-29-3", "I", "1"),
    ("4-anilinopiperidine", "23056-29-3", "I", "1"),
    ("N-phenylpiperidin-4-amine", "23056-29-3", "I", "1"),
    ("1-boc-4-AP", "125541-22-2", "I", "1"),
    ("tert-butyl 4-(phenylamino)piperidine-1-carboxylate", "125541-22-2", "I", "1"),
    ("Norfentanyl", "1609-66-1", "I", "1"),
    ("4-Piperidone", "41661-47-6", "I", "1"),
    ("1-boc-4-piperidone", "79099-07-3", "I", "1"),
    ("Potassium permanganate", "7722-64-7", "I", "2B"),
    # §3.1 Table II
    ("Acetone", "67-64-1", "II", "3"),
    ("Anthranilic acid", "118-92-3", "II", "2B"),
    ("Ethyl ether", "60-29-7", "II", "3"),
    ("diethyl ether", "60-29-7", "II", "3"),
    ("Hydrochloric acid", "7647-01-0", "II", "3"),
    ("Methyl ethyl ketone", "78-93-3", "II", "3"),
    ("MEK", "78-93-3", "II", "3"),
    ("Piperidine", "110-89-4", "II", "2B"),
    ("Sulphuric acid", "7664-93-9", "II", "3"),
    ("Toluene", "108-88-3", "II", "3"),
    # §3.2 EU category 1 entries without a UN table
    ("DEPAPD", None, None, "1"),
    ("diethyl (phenylacetyl)propanedioate", None, None, "1"),
    ("chloroephedrine", None, None, "1"),
    ("chloropseudoephedrine", None, None, "1"),
    ("IMDPAM", None, None, "1"),
    ("isopropylidene (2-(3,4-methylenedioxyphenyl)acetyl)malonate", None, None, "1"),
    # §3.3 non-scheduled and recently EU-only chemicals
    ("Benzylfentanyl", None, None, None),
    ("1-Phenyl-2-nitropropene", None, None, None),
    ("Nitazene precursors", None, None, None),
    ("Benzaldehyde", "100-52-7", None, None),
    ("Nitroethane", "79-24-3", None, None),
    ("Methylamine", "74-89-5", None, None),
    ("Red phosphorus", "7723-14-0", None, None),
    ("Hydriodic acid", "10034-85-2", None, None),
    ("GBL", "96-48-0", None, None),
    ("1,4-butanediol", "110-63-4", None, None),
]


def _raw_substances() -> list[dict[str, Any]]:
    raw = files("exchange_api.reference").joinpath("data/substances.json").read_text("utf-8")
    substances: list[dict[str, Any]] = json.loads(raw)["substances"]
    return substances


def _everything() -> list[Substance]:
    return search_substances(None, limit=1000)


def test_every_catalogue_cas_passes_its_check_digit() -> None:
    numbers = [
        cas
        for entry in _raw_substances()
        for cas in (entry["cas"], *entry["other_cas"])
        if cas is not None
    ]
    assert len(numbers) == 47
    for cas in numbers:
        assert is_valid_cas(cas), cas


def test_the_catalogue_file_validates_and_gives_each_number_and_key_once() -> None:
    entries = TypeAdapter(list[Substance]).validate_python(_raw_substances())
    numbers = [cas for e in entries for cas in (e.cas, *e.other_cas) if cas is not None]
    assert len(numbers) == len(set(numbers))
    assert len({e.key for e in entries}) == len(entries)


@pytest.mark.parametrize(("name", "cas", "un_table", "eu_category"), REFERENCE_ROWS)
def test_every_row_of_the_reference_is_in_the_catalogue(
    name: str, cas: str | None, un_table: str | None, eu_category: str | None
) -> None:
    by_name = match_substance(None, name)
    assert by_name is not None, name
    assert (by_name.un_table, by_name.eu_category) == (un_table, eu_category)
    assert by_name.scheduled is (un_table is not None or eu_category is not None)
    if cas is None:
        return
    assert get_substance(cas) is by_name
    assert cas in (by_name.cas, *by_name.other_cas)


def test_the_catalogue_holds_no_entry_the_reference_does_not_name() -> None:
    named = {id(match_substance(None, name)) for name, *_ in REFERENCE_ROWS}
    assert {id(substance) for substance in _everything()} == named


def test_bmk_ethyl_glycidate_is_listed_under_its_trade_number_and_keeps_the_other() -> None:
    entry = get_substance("41232-97-7")
    assert entry is not None
    assert (entry.cas, entry.other_cas, entry.key) == ("77-83-8", ("41232-97-7",), "77-83-8")


def test_entries_without_a_number_have_a_name_key() -> None:
    depapd = match_substance(None, "depapd")
    assert depapd is not None
    assert (depapd.cas, depapd.key) == (None, "name:depapd")
    assert substance_key(None, "Diethyl (phenylacetyl) propanedioate") == "name:depapd"
    assert substance_key(None, "An unlisted  Pre-Precursor") == "name:an unlisted pre precursor"
    assert substance_key("50-00-0", "BMK") == "50-00-0"
    assert "name:depapd" in catalogue_keys()


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


def test_search_is_sorted_by_name_then_key() -> None:
    everything = _everything()
    assert everything == sorted(everything, key=lambda s: (s.name.casefold(), s.key))


def test_search_pages_after_the_cursor_until_the_end() -> None:
    pages: list[list[Substance]] = []
    after: str | None = None
    while True:
        page = search_substances("acid", limit=3, after=after)
        if not page:
            break
        pages.append(page)
        after = page[-1].key
    collected = [substance for page in pages for substance in page]
    assert collected == search_substances("acid", limit=1000)
    assert all(len(page) == 3 for page in pages[:-1])


def test_search_refuses_a_cursor_that_is_not_in_the_catalogue() -> None:
    with pytest.raises(BadRequest) as caught:
        search_substances(None, limit=10, after="50-00-0")
    assert caught.value.slug == "invalid-cursor"
