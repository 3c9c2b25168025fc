"""One keyset pagination for every list, with one opaque cursor format.

Every list answers ``{"items": [...], "next_cursor": ...}``. A page is read as "the next
``limit + 1`` rows after the key of the previous page's last row" in the list's own order, so rows
added while a caller pages never shift or repeat later pages (no OFFSET), and the one extra row
tells whether there is a next page without counting. The order is the list's (alerts newest first,
audit entries by seq, agencies by id, …); the cursor only carries the last key.

A cursor is base64url (no padding) of a format byte and the key's bytes. Callers must treat it as
opaque: the format byte lets it change without misreading old cursors, and a cursor that does not
decode to a key of the list's kind is 400 ``invalid-cursor`` — never a database error (a text key
holding a control character, NUL included, is refused here).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.datastructures import URL

from exchange_api.errors import BadRequest

__all__ = [
    "INTEGER_KEYS",
    "TEXT_KEYS",
    "UUID_KEYS",
    "CursorQuery",
    "InvalidCursor",
    "KeyKind",
    "LimitQuery",
    "Page",
    "PlainPage",
    "next_link",
    "page_of",
]

KeyT = TypeVar("KeyT")
RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")

_FORMAT = b"\x01"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidCursor(BadRequest):
    slug = "invalid-cursor"
    title = "Invalid cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not valid.")


class KeyKind(Generic[KeyT]):
    """How the keys of one kind of list become cursors and back."""

    def __init__(
        self, to_bytes: Callable[[KeyT], bytes], from_bytes: Callable[[bytes], KeyT]
    ) -> None:
        self._to_bytes = to_bytes
        self._from_bytes = from_bytes

    def encode(self, key: KeyT) -> str:
        return base64.urlsafe_b64encode(_FORMAT + self._to_bytes(key)).rstrip(b"=").decode("ascii")

    def decode(self, cursor: str) -> KeyT:
        """The key a cursor continues after; :class:`InvalidCursor` (400) for anything else."""
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise InvalidCursor() from None
        if raw[:1] != _FORMAT:
            raise InvalidCursor()
        try:
            return self._from_bytes(raw[1:])
        except ValueError:
            raise InvalidCursor() from None


def _uuid_of(raw: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=raw)  # ValueError unless exactly 16 bytes


def _integer_of(raw: bytes) -> int:
    """A key of a ``BIGINT`` column (a seq): 8 bytes whose signed value is not negative. Read
    unsigned, a forged cursor past 2**63 - 1 reached the database as a value no column holds."""
    if len(raw) != 8:
        raise ValueError("not an 8-byte integer")
    value = int.from_bytes(raw, "big", signed=True)
    if value < 0:
        raise ValueError("not a BIGINT key")
    return value


def _text_of(raw: bytes) -> str:
    text = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if not text or _CONTROL.search(text):
        raise ValueError("not a text key")
    return text


UUID_KEYS: KeyKind[uuid.UUID] = KeyKind(lambda key: key.bytes, _uuid_of)
INTEGER_KEYS: KeyKind[int] = KeyKind(lambda key: key.to_bytes(8, "big"), _integer_of)
TEXT_KEYS: KeyKind[str] = KeyKind(lambda key: key.encode("utf-8"), _text_of)


def page_of(
    found: Sequence[RowT], limit: int, kind: KeyKind[KeyT], key: Callable[[RowT], KeyT]
) -> tuple[list[RowT], str | None]:
    """The page of ``found`` (read with ``limit + 1``) and the cursor of the next page, if any."""
    page = list(found[:limit])
    next_cursor = kind.encode(key(page[-1])) if len(found) > limit else None
    return page, next_cursor


def next_link(url: URL, next_cursor: str | None) -> dict[str, str]:
    """The ``Link: rel="next"`` header of a page (none on the last page). The link is relative:
    nothing the service answers is built from the request's ``Host`` header."""
    if next_cursor is None:
        return {}
    next_url = url.include_query_params(cursor=next_cursor)
    return {"Link": f'<{next_url.path}?{next_url.query}>; rel="next"'}


@dataclass(frozen=True)
class PlainPage:
    """One page of a list whose items are plain values laid out as its :class:`Page` model
    serialises them (written without models on the hot reads)."""

    items: list[dict[str, Any]]
    next_cursor: str | None

    def json(self) -> bytes:
        """The page as its :class:`Page` model serialises it."""
        return to_json({"items": self.items, "next_cursor": self.next_cursor})


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; ``next_cursor`` is null on the last page."""

    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page (opaque); null on the last page."
    )


CursorQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=400, description="`next_cursor` of the previous page."),
]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="Page size (default 50).")]
