"""Checks a customs officer expects: CAS numbers, container numbers, countries and ports.

Each check exists twice: as a pure ``is_valid_*`` / ``is_*`` predicate over the canonical form,
and as a pydantic ``Annotated`` type (``CasNumber``, ``ContainerNumber``, ``CountryCode``,
``UnLocode``) that the API schemas use. The types raise ``ValueError`` messages that say what is
wrong but never repeat the value: identifiers in alerts may be sensitive, and validation messages
travel back to callers and into logs.

Agencies' systems send what officers type, so the types first bring a value to its canonical form
wherever the meaning is certain (``normalise_*``), then check it, and the canonical form is what
is stored and compared:

- countries: surrounding spaces dropped and upper-cased; ``EL`` is read as ``GR`` and ``UK`` as
  ``GB`` (the codes the EU and the United Kingdom use for themselves); ``XK`` (Kosovo, as the EU
  and Europol use it) is accepted although ISO 3166-1 has not assigned it;
- UN/LOCODEs: spaces dropped and upper-cased (``nl rtm`` is ``NLRTM``);
- container numbers: spaces, hyphens and dots dropped and upper-cased (``csqu 305438-3`` is
  ``CSQU3054383``).

CAS numbers are not rewritten: their hyphens carry the structure, and a number typed another way
is more likely a different number than the same one. A check digit proves only that the number is
well formed, never that it belongs to the substance or container named.
"""

from __future__ import annotations

import re
import string
from typing import Annotated

import pycountry
from pydantic import AfterValidator, WithJsonSchema

__all__ = [
    "CasNumber",
    "ContainerNumber",
    "CountryCode",
    "UnLocode",
    "cas_check_digit",
    "check_container_number",
    "container_check_digit",
    "is_country_code",
    "is_unlocode",
    "is_valid_cas",
    "is_valid_container_number",
    "normalise_container_number",
    "normalise_country_code",
    "normalise_unlocode",
]

# --- CAS Registry Numbers -------------------------------------------------------------------

_CAS_FORMAT = re.compile(r"(?P<body>[0-9]{2,7}-[0-9]{2})-(?P<check>[0-9])")
_CAS_PATTERN = r"^[0-9]{2,7}-[0-9]{2}-[0-9]$"
_CAS_INVALID = "not a valid CAS Registry Number"


def cas_check_digit(digits: str) -> int:
    """The CAS check digit for the digits before it (hyphens ignored).

    Weights 1, 2, 3, … from the rightmost digit; the weighted sum modulo 10.
    """
    body = digits.replace("-", "")
    if not body.isascii() or not body.isdigit():
        raise ValueError("CAS digits must be ASCII digits")
    return sum(weight * int(digit) for weight, digit in enumerate(reversed(body), start=1)) % 10


def _cas_problem(value: str) -> str | None:
    match = _CAS_FORMAT.fullmatch(value)
    if match is None:
        return f"{_CAS_INVALID} (expected the form NNNNNNN-NN-N, 2 to 7 leading digits)"
    if cas_check_digit(match["body"]) != int(match["check"]):
        return f"{_CAS_INVALID} (check digit mismatch)"
    return None


def is_valid_cas(value: str) -> bool:
    """Whether ``value`` is a well-formed CAS Registry Number with a correct check digit."""
    return _cas_problem(value) is None


# --- ISO 6346 container numbers -------------------------------------------------------------

# Letters take the values 10..38, skipping multiples of 11 (11, 22, 33).
_CONTAINER_LETTER_VALUES: dict[str, int] = dict(
    zip(
        string.ascii_uppercase,
        (value for value in range(10, 39) if value % 11 != 0),
        strict=True,
    )
)
_CONTAINER_BODY_REGEX = r"[A-Z]{3}[UJZ][0-9]{6}"
_CONTAINER_BODY = re.compile(_CONTAINER_BODY_REGEX)
_CONTAINER_FORMAT = re.compile(rf"(?P<body>{_CONTAINER_BODY_REGEX})(?P<check>[0-9])")
_CONTAINER_INVALID = "not a valid ISO 6346 container number"


_CONTAINER_SEPARATORS = re.compile(r"[\s.-]+")


def normalise_container_number(value: str) -> str:
    """A container number as printed or typed (``csqu 305438-3``) in canonical form
    (``CSQU3054383``): spaces, hyphens and dots dropped, upper case."""
    return _CONTAINER_SEPARATORS.sub("", value).upper()


def container_check_digit(owner_category_serial: str) -> int:
    """The ISO 6346 check digit for the first ten characters (e.g. ``CSQU305438`` → 3).

    Each character's value (digits as themselves, letters per the ISO table) is weighted by
    2**position; the sum modulo 11, then modulo 10 (a remainder of 10 gives 0).
    """
    if _CONTAINER_BODY.fullmatch(owner_category_serial) is None:
        raise ValueError("expected owner code, category U, J or Z, and a 6-digit serial")
    total = sum(
        (_CONTAINER_LETTER_VALUES[char] if char.isalpha() else int(char)) << position
        for position, char in enumerate(owner_category_serial)
    )
    return total % 11 % 10


def _container_problem(value: str) -> str | None:
    match = _CONTAINER_FORMAT.fullmatch(value)
    if match is None:
        return (
            f"{_CONTAINER_INVALID} (expected a 3-letter owner code, category U, J or Z, "
            "a 6-digit serial and a check digit)"
        )
    if container_check_digit(match["body"]) != int(match["check"]):
        return f"{_CONTAINER_INVALID} (check digit mismatch)"
    return None


def is_valid_container_number(value: str) -> bool:
    """Whether ``value`` is an ISO 6346 container number with a correct check digit.

    The canonical form is ``CSQU3054383``: upper case, without the spaces often printed on the
    box (:func:`normalise_container_number` makes it).
    """
    return _container_problem(value) is None


# --- Countries and UN/LOCODEs ---------------------------------------------------------------

# XK: Kosovo, a user-assigned code the EU, Europol and many registries use.
_COUNTRY_CODES: frozenset[str] = frozenset(
    {*(str(country.alpha_2) for country in pycountry.countries), "XK"}
)
# Codes in use that mean an ISO code with certainty: the EU's EL (Greece) and the UK.
_COUNTRY_ALIASES: dict[str, str] = {"EL": "GR", "UK": "GB"}
_UNLOCODE_FORMAT = re.compile(r"(?P<country>[A-Z]{2})[A-Z2-9]{3}")
_SPACES = re.compile(r"\s+")


def normalise_country_code(value: str) -> str:
    """A country code as typed (`` nl``, ``el``, ``UK``) in canonical form (``NL``, ``GR``,
    ``GB``); anything else is returned upper-cased, for :func:`is_country_code` to judge."""
    code = value.strip().upper()
    return _COUNTRY_ALIASES.get(code, code)


def is_country_code(value: str) -> bool:
    """Whether ``value`` is a country code in canonical form: ISO 3166-1 alpha-2, or ``XK``."""
    return value in _COUNTRY_CODES


def normalise_unlocode(value: str) -> str:
    """A UN/LOCODE as typed (``NL RTM``, ``nlrtm``) in canonical form (``NLRTM``)."""
    return _SPACES.sub("", value).upper()


def is_unlocode(value: str) -> bool:
    """Whether ``value`` has the UN/LOCODE shape: an ISO country code and 3 of ``A-Z``, ``2-9``.

    The shape only: whether the location exists in the UN/LOCODE list is not checked.
    """
    match = _UNLOCODE_FORMAT.fullmatch(value)
    return match is not None and is_country_code(match["country"])


# --- pydantic types -------------------------------------------------------------------------


def _check_cas(value: str) -> str:
    problem = _cas_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def check_container_number(value: str) -> str:
    """``value`` in canonical form if it is then a valid container number; else ``ValueError``
    (saying what is wrong, never the value)."""
    canonical = normalise_container_number(value)
    problem = _container_problem(canonical)
    if problem is not None:
        raise ValueError(problem)
    return canonical


def _check_country_code(value: str) -> str:
    canonical = normalise_country_code(value)
    if not is_country_code(canonical):
        raise ValueError("not an ISO 3166-1 alpha-2 country code (two letters)")
    return canonical


def _check_unlocode(value: str) -> str:
    canonical = normalise_unlocode(value)
    if not is_unlocode(canonical):
        raise ValueError(
            "not a UN/LOCODE (an ISO 3166-1 alpha-2 country code followed by 3 characters "
            "from A-Z and 2-9)"
        )
    return canonical


CasNumber = Annotated[
    str,
    AfterValidator(_check_cas),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _CAS_PATTERN,
            "description": "CAS Registry Number; the check digit is verified.",
            "examples": ["103-79-7"],
        }
    ),
]
ContainerNumber = Annotated[
    str,
    AfterValidator(check_container_number),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 6346 container number; the check digit is verified. Spaces, "
            "hyphens and lower case are accepted and normalised away.",
            "examples": ["CSQU3054383"],
        }
    ),
]
CountryCode = Annotated[
    str,
    AfterValidator(_check_country_code),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 3166-1 alpha-2 country code, or XK (Kosovo); lower case is "
            "upper-cased, EL is read as GR and UK as GB.",
            "examples": ["NL"],
        }
    ),
]
UnLocode = Annotated[
    str,
    AfterValidator(_check_unlocode),
    WithJsonSchema(
        {
            "type": "string",
            "description": "UN/LOCODE: ISO 3166-1 alpha-2 country code and 3 characters "
            "(A-Z, 2-9); spaces and lower case are accepted and normalised away.",
            "examples": ["NLRTM"],
        }
    ),
]
