"""Blind indexes: exact-match search and correlation over encrypted fields.

A blind index is ``HMAC-SHA256(field key, normalised value)`` stored beside the ciphertext. The
field key is derived by the keyring (HKDF-SHA256 from the blind-index root, ``info`` naming the
field), so looking a value up needs the keys: the database alone yields no names or numbers.

What leaks, plainly:

- **Equality within a field.** Whoever reads the database sees which rows share a party name,
  an identifier, a document number or a person: that is the point (correlation, backtracking),
  and it is the only thing revealed. Frequencies follow from it — a value that appears on many
  alerts shows up as a common index — and anyone holding the keys can confirm a guessed value.
- **Nothing across fields.** Each field has its own key, so the same string as a party name and
  as a document number gives unrelated indexes. A different root key gives unrelated indexes
  everywhere (another deployment's indexes cannot be matched with ours).

Why the normalisation is what it is: the index matches only bytes-identical input, so both sides
of a comparison must be brought to one form first, and that form decides what counts as "the
same". Names (:func:`normalise_text`) are typed by people in many systems: NFKC folds compatibility
forms (full-width letters, ligatures, non-breaking spaces), case folding ignores case in every
script, and punctuation and spacing are noise ("Example Chemical Trading Co." is "example chemical
trading co"). Accents are kept: "Müller" and "Muller" may be different people, and folding them
would turn a leak of equality into false links. Identifiers, container and document numbers
(:func:`normalise_identifier`) are codes whose separators and case vary by system and are never
significant ("CSQU 305438-3" is "CSQU3054383"), so only ASCII letters and digits are kept.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import date
from typing import Final

from exchange_api.crypto.keyring import Keyring

__all__ = [
    "BLIND_INDEX_FIELDS",
    "DOCUMENT_NUMBER",
    "PARTY_IDENTIFIER",
    "PARTY_NAME",
    "PERSON_NAME_DOB",
    "blind_index",
    "normalise_identifier",
    "normalise_person",
    "normalise_text",
]

PARTY_NAME: Final = "party.name"
PARTY_IDENTIFIER: Final = "party.identifier"
DOCUMENT_NUMBER: Final = "document.number"
PERSON_NAME_DOB: Final = "person.name_dob"
BLIND_INDEX_FIELDS: Final = frozenset(
    {PARTY_NAME, PARTY_IDENTIFIER, DOCUMENT_NUMBER, PERSON_NAME_DOB}
)

# Letters, marks (accents, and vowel signs that some scripts cannot drop) and numbers are content;
# every other category (punctuation, symbols, separators, controls) separates words.
_CONTENT_CATEGORIES = frozenset("LMN")
# ASCII is already in NFKC and case-folds to lower case, and its only content characters are
# letters and digits: the words of an ASCII name are its runs of these. Most values are ASCII,
# and this is several times faster than the per-character path that any other text needs.
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_NOT_ASCII_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def normalise_text(value: str) -> str:
    """A name in comparable form: NFKC, case-folded, punctuation and spacing collapsed to spaces.

    NFKC is applied again after case folding, because folding can leave text that is not in NFKC.
    """
    if value.isascii():
        return " ".join(_ASCII_WORD.findall(value.lower()))
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    spaced = "".join(
        ch if unicodedata.category(ch)[0] in _CONTENT_CATEGORIES else " " for ch in folded
    )
    return " ".join(spaced.split())


def normalise_identifier(value: str) -> str:
    """An identifier or document number in comparable form: NFKC, upper-case ASCII A-Z and 0-9."""
    return _NOT_ASCII_ALNUM.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalise_person(name: str, date_of_birth: date) -> str:
    """The value indexed under ``person.name_dob``: normalised name, ``|``, ISO birth date."""
    return f"{normalise_text(name)}|{date_of_birth.isoformat()}"


def blind_index(keyring: Keyring, field: str, normalised: str) -> str:
    """The blind index of an already normalised value, as lower-case hex.

    Unknown field names are refused (a typo would silently never match), and so is an empty value
    (it would link every alert whose value normalises to nothing).
    """
    if field not in BLIND_INDEX_FIELDS:
        raise ValueError(f"no blind index is defined for field {field!r}")
    if not normalised:
        raise ValueError("an empty value has no blind index")
    # The standard library's one-shot HMAC (OpenSSL): half the cost of building an HMAC object
    # per value, and a batch computes thousands.
    return hmac.digest(keyring.blind_index_key(field), normalised.encode("utf-8"), "sha256").hex()
