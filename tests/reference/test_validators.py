from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from exchange_api.reference.validators import (
    CasNumber,
    ContainerNumber,
    CountryCode,
    UnLocode,
    cas_check_digit,
    container_check_digit,
    is_country_code,
    is_unlocode,
    is_valid_cas,
    is_valid_container_number,
)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("107-07", 3), ("67-64", 1), ("1609-66", 1), ("2167189-50", 4), ("10034-85", 2)],
)
def test_cas_check_digit_weights_digits_from_the_right(digits: str, expected: int) -> None:
    assert cas_check_digit(digits) == expected


@pytest.mark.parametrize("value", ["107-07-3", "67-64-1", "1609-66-1", "2167189-50-4", "50-00-0"])
def test_valid_cas_numbers(value: str) -> None:
    assert is_valid_cas(value)


@pytest.mark.parametrize(
    "value",
    [
        "1609-66-5",  # the wrong norfentanyl number found in one public list
        "67-64-2",
        "5-00-0",  # one leading digit
        "12345678-00-1",  # eight leading digits
        "67-6-1",
        "67641",
        "67-64-1 ",
        " 67-64-1",
        "67\u201364\u20131",  # en dashes
        "\u0666\u0667-\u0666\u0664-\u0661",  # Arabic-Indic digits
        "",
    ],
)
def test_invalid_cas_numbers(value: str) -> None:
    assert not is_valid_cas(value)


@pytest.mark.parametrize(
    ("owner_category_serial", "expected"),
    [
        ("CSQU305438", 3),  # the ISO 6346 example
        ("MAEU123456", 7),
        ("BICU000000", 6),
        ("TCLU000001", 4),
        ("MSCU000006", 0),  # sum modulo 11 is 10, which becomes 0
    ],
)
def test_container_check_digit(owner_category_serial: str, expected: int) -> None:
    assert container_check_digit(owner_category_serial) == expected


@pytest.mark.parametrize(
    "value", ["CSQU3054383", "MAEU1234567", "MSCU0000060", "ABCJ0000004", "ABCZ0000005"]
)
def test_valid_container_numbers(value: str) -> None:
    assert is_valid_container_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "CSQU3054384",  # wrong check digit
        "MSCU0000061",
        "csqu3054383",  # lower case
        "CSQU 305438 3",  # printed spacing
        "CSQX3054383",  # category must be U, J or Z
        "CS1U3054383",
        "CSQU305438",  # check digit missing
        "CSQU30543833",
        "",
    ],
)
def test_invalid_container_numbers(value: str) -> None:
    assert not is_valid_container_number(value)


def test_container_check_digit_refuses_a_malformed_prefix() -> None:
    with pytest.raises(ValueError, match="owner code"):
        container_check_digit("CSQX305438")


@pytest.mark.parametrize("value", ["NL", "CN", "DE", "TR", "BG", "US"])
def test_country_codes(value: str) -> None:
    assert is_country_code(value)


@pytest.mark.parametrize("value", ["nl", "Nl", "XX", "UK", "NLD", "N", ""])
def test_not_country_codes(value: str) -> None:
    assert not is_country_code(value)


@pytest.mark.parametrize("value", ["NLRTM", "CNSHA", "DEHAM", "BEANR", "GB2RS"])
def test_unlocodes(value: str) -> None:
    assert is_unlocode(value)


@pytest.mark.parametrize(
    "value",
    [
        "XXABC",  # no such country
        "NL1",
        "nlrtm",
        "NLRT1",  # 0 and 1 are not used, to avoid confusion with O and I
        "NLRTM0",
        "NL RTM",
        "",
    ],
)
def test_not_unlocodes(value: str) -> None:
    assert not is_unlocode(value)


_SECRET_LOOKING = "SECRET-VALUE-4711"


@pytest.mark.parametrize(
    ("annotated", "good", "message"),
    [
        (CasNumber, "103-79-7", "not a valid CAS Registry Number"),
        (ContainerNumber, "CSQU3054383", "not a valid ISO 6346 container number"),
        (CountryCode, "NL", "not an ISO 3166-1 alpha-2 country code"),
        (UnLocode, "NLRTM", "not a UN/LOCODE"),
    ],
)
def test_annotated_types_accept_good_values_and_never_echo_bad_ones(
    annotated: Any, good: str, message: str
) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(annotated)
    assert adapter.validate_python(good) == good
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(_SECRET_LOOKING)
    (error,) = caught.value.errors(include_input=False, include_context=False)
    assert message in error["msg"]
    assert _SECRET_LOOKING not in error["msg"]


def test_cas_type_says_when_only_the_check_digit_is_wrong() -> None:
    with pytest.raises(ValidationError, match=r"check digit mismatch"):
        TypeAdapter(CasNumber).validate_python("1609-66-5")


def test_container_type_says_when_only_the_check_digit_is_wrong() -> None:
    with pytest.raises(ValidationError, match=r"check digit mismatch"):
        TypeAdapter(ContainerNumber).validate_python("CSQU3054384")


def test_annotated_types_document_their_pattern() -> None:
    schema = TypeAdapter(CasNumber).json_schema()
    assert schema["pattern"] == r"^[0-9]{2,7}-[0-9]{2}-[0-9]$"
