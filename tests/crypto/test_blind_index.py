from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from exchange_api.crypto import (
    BLIND_INDEX_FIELDS,
    DOCUMENT_NUMBER,
    PARTY_IDENTIFIER,
    PARTY_NAME,
    PERSON_NAME_DOB,
    LocalKeyring,
    blind_index,
    ensure_keys,
    load_key_material,
    normalise_identifier,
    normalise_person,
    normalise_text,
)


def fullwidth(ascii_text: str) -> str:
    """The full-width forms (U+FF01..U+FF5E) that East Asian input methods produce."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in ascii_text)


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("Example Chemical Trading Co.", "example chemical trading co"),
        ("example  chemical trading co", "example chemical trading co"),
        ("  EXAMPLE\tChemical\nTrading, Co. ", "example chemical trading co"),
        (fullwidth("Example") + "\u00a0Chemical", "example chemical"),  # no-break space
        ("Straße GmbH", "strasse gmbh"),
        ("Müller & Söhne B.V.", "müller söhne b v"),
        ("Mu\u0308ller", "müller"),  # decomposed umlaut composes
        ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),
        ("...", ""),
    ],
)
def test_normalise_text(value: str, normalised: str) -> None:
    assert normalise_text(value) == normalised


@pytest.mark.parametrize("char", [chr(code) for code in range(128)])
def test_normalise_text_treats_ascii_as_the_unicode_rules_do(char: str) -> None:
    # An all-ASCII value takes a fast path; "é" sends the same value down the per-character one.
    general = normalise_text(f"é{char}X {char}{char}y{char}")
    assert normalise_text(f"e{char}X {char}{char}y{char}") == "e" + general[1:]


def test_normalise_text_keeps_accents_distinct() -> None:
    assert normalise_text("Müller") != normalise_text("Muller")


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("CSQU 305438-3", "CSQU3054383"),
        ("csqu3054383", "CSQU3054383"),
        (fullwidth("CSQU3054383"), "CSQU3054383"),
        ("NL 8012.34.567.B01", "NL801234567B01"),
        ("—", ""),
    ],
)
def test_normalise_identifier(value: str, normalised: str) -> None:
    assert normalise_identifier(value) == normalised


def test_normalise_person_joins_name_and_birth_date() -> None:
    assert normalise_person(" Jan  de Vries ", date(1980, 2, 29)) == "jan de vries|1980-02-29"


@pytest.mark.parametrize(
    ("field", "normalise", "variants"),
    [
        (
            PARTY_NAME,
            normalise_text,
            [
                "Example Chemical Trading Co.",
                "example  chemical trading co",
                "EXAMPLE-CHEMICAL TRADING CO",
            ],
        ),
        (DOCUMENT_NUMBER, normalise_identifier, ["CSQU 305438-3", "csqu3054383", "CSQU-305438/3"]),
    ],
)
def test_blind_index_is_equal_across_variants(
    keyring: LocalKeyring, field: str, normalise: Callable[[str], str], variants: list[str]
) -> None:
    indexes = {blind_index(keyring, field, normalise(v)) for v in variants}

    assert len(indexes) == 1
    (index,) = indexes
    assert len(index) == 64
    assert set(index) <= set("0123456789abcdef")


def test_blind_index_differs_for_different_values(keyring: LocalKeyring) -> None:
    assert blind_index(keyring, PARTY_NAME, "example chemical trading co") != blind_index(
        keyring, PARTY_NAME, "example chemical trading bv"
    )


def test_blind_index_differs_across_fields(keyring: LocalKeyring) -> None:
    value = "CSQU3054383"

    indexes = {blind_index(keyring, field, value) for field in BLIND_INDEX_FIELDS}

    assert len(indexes) == len(BLIND_INDEX_FIELDS) == 4


def test_blind_index_is_stable_across_restarts(fresh_keys_dir: Path, keyring: LocalKeyring) -> None:
    restarted = LocalKeyring(load_key_material(fresh_keys_dir))

    assert blind_index(keyring, PARTY_IDENTIFIER, "NL801234567B01") == blind_index(
        restarted, PARTY_IDENTIFIER, "NL801234567B01"
    )


def test_blind_index_differs_under_another_root_key(keyring: LocalKeyring, tmp_path: Path) -> None:
    other_dir = tmp_path / "other-keys"
    ensure_keys(other_dir)
    other = LocalKeyring(load_key_material(other_dir))
    value = normalise_person("Jan de Vries", date(1980, 2, 29))

    assert blind_index(keyring, PERSON_NAME_DOB, value) != blind_index(
        other, PERSON_NAME_DOB, value
    )


def test_blind_index_refuses_an_unknown_field(keyring: LocalKeyring) -> None:
    with pytest.raises(ValueError, match="no blind index"):
        blind_index(keyring, "party.nmae", "example")


def test_blind_index_refuses_an_empty_value(keyring: LocalKeyring) -> None:
    with pytest.raises(ValueError, match="empty"):
        blind_index(keyring, PARTY_NAME, normalise_text("..."))
