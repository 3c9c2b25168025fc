"""Blind-index tags of an alert's parties, documents and persons, for search and links.

A tag is the blind index (keyed HMAC, :mod:`exchange_api.crypto`) of a normalised value, stored in
``alert_tags``. Two alerts with the same container number, company identifier or person (name and
date of birth) share a tag; the database learns that they are equal and nothing else. A person
without a date of birth gets no tag: a name alone would link strangers who share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from exchange_api.alerts.schemas import Document, Party, Person
from exchange_api.alerts.vocabulary import FieldGroup
from exchange_api.crypto import (
    DOCUMENT_NUMBER,
    PARTY_IDENTIFIER,
    PARTY_NAME,
    PERSON_NAME_DOB,
    Keyring,
    blind_index,
    normalise_identifier,
    normalise_person,
    normalise_text,
)

__all__ = [
    "TAG_FIELDS_OF_GROUP",
    "Tag",
    "document_search_tags",
    "party_search_tags",
    "tags_of",
]

TAG_FIELDS_OF_GROUP: Final[dict[FieldGroup, tuple[str, ...]]] = {
    "parties": (PARTY_NAME, PARTY_IDENTIFIER),
    "documents": (DOCUMENT_NUMBER,),
    "persons": (PERSON_NAME_DOB,),
}
"""Which tag fields each tagged group produces (a changed group has its tags rewritten)."""


@dataclass(frozen=True, slots=True)
class Tag:
    """One blind-index tag and the value it was computed from, as the alert holds it.

    ``shown`` is plaintext: it never leaves the request (links show it only to callers who may
    see the group), and it is never stored.
    """

    field: str
    tag: str
    shown: str


def tags_of(
    keyring: Keyring,
    *,
    parties: Sequence[Party] = (),
    documents: Sequence[Document] = (),
    persons: Sequence[Person] = (),
) -> list[Tag]:
    """The distinct tags of an alert's groups (the first holder of a value names it)."""
    found: dict[tuple[str, str], Tag] = {}

    def add(field: str, normalised: str, shown: str) -> None:
        if normalised:
            tag = blind_index(keyring, field, normalised)
            found.setdefault((field, tag), Tag(field, tag, shown))

    for party in parties:
        add(PARTY_NAME, normalise_text(party.name), party.name)
        if party.identifier is not None:
            add(PARTY_IDENTIFIER, normalise_identifier(party.identifier), party.identifier)
    for document in documents:
        add(DOCUMENT_NUMBER, normalise_identifier(document.number), document.number)
    for person in persons:
        if person.date_of_birth is not None:
            add(
                PERSON_NAME_DOB,
                normalise_person(person.name, person.date_of_birth),
                f"{person.name}, born {person.date_of_birth.isoformat()}",
            )
    return list(found.values())


def party_search_tags(keyring: Keyring, value: str) -> list[tuple[str, str]]:
    """The tags a ``party`` filter matches: the value as a company name or as an identifier."""
    pairs = [(PARTY_NAME, normalise_text(value)), (PARTY_IDENTIFIER, normalise_identifier(value))]
    return [(field, blind_index(keyring, field, norm)) for field, norm in pairs if norm]


def document_search_tags(keyring: Keyring, value: str) -> list[tuple[str, str]]:
    """The tag a ``document`` filter matches (none if the value has no letters or digits)."""
    normalised = normalise_identifier(value)
    return (
        [(DOCUMENT_NUMBER, blind_index(keyring, DOCUMENT_NUMBER, normalised))] if normalised else []
    )


def groups_with_tags(groups: Iterable[FieldGroup]) -> list[FieldGroup]:
    """The tagged groups among ``groups``."""
    return [group for group in groups if group in TAG_FIELDS_OF_GROUP]
