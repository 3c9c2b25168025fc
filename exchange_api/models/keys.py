"""What binds a database to its keys: a key-check value per key (:mod:`exchange_api.key_check`).

Never a key, nothing a key can be computed from: per KEK version a random value wrapped under it
(only that KEK opens it), and an HMAC of a fixed label under the blind-index root key.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from exchange_api.models.types import UTCDateTime, utc_now

__all__ = ["KeyCheckRecord"]


class KeyCheckRecord(SQLModel, table=True):
    __tablename__ = "key_checks"

    name: str = Field(primary_key=True, max_length=32, description="kek:<version> or blind-index")
    value: bytes = Field(nullable=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
