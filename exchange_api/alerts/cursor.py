"""Opaque page cursors for keyset pagination over alert ids (newest first).

A cursor is the id of the last alert of a page, behind a format byte, base64url-encoded: callers
must treat it as opaque, and the format byte lets it change without misreading old cursors.
Because a page continues strictly below that id, alerts created meanwhile (with higher UUIDv7
ids) never shift later pages: each visible alert appears exactly once.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from exchange_api.alerts.errors import InvalidCursor

__all__ = ["decode_cursor", "encode_cursor"]

_FORMAT = b"\x01"
_LENGTH = len(_FORMAT) + 16


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(_FORMAT + last_id.bytes).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> uuid.UUID:
    """The id a cursor continues below; :class:`InvalidCursor` (400) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidCursor() from None
    if len(raw) != _LENGTH or raw[:1] != _FORMAT:
        raise InvalidCursor()
    return uuid.UUID(bytes=raw[1:])
