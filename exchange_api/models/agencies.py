"""Member agencies and the client systems they register."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Column, Enum, Text
from sqlmodel import Field, SQLModel
from uuid_utils.compat import uuid7

from exchange_api.models.types import UTCDateTime, utc_now

__all__ = ["Agency", "AgencyKind", "Client"]


class AgencyKind(enum.StrEnum):
    LAW_ENFORCEMENT = "law_enforcement"
    CUSTOMS = "customs"
    REGULATORY = "regulatory"
    PROSECUTION = "prosecution"
    INDUSTRY = "industry"


class Agency(SQLModel, table=True):
    __tablename__ = "agencies"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    country: str = Field(max_length=2)
    kind: AgencyKind = Field(
        sa_column=Column(
            Enum(AgencyKind, name="agency_kind", values_callable=lambda e: [m.value for m in e]),
            nullable=False,
        )
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class Client(SQLModel, table=True):
    """An agency's system. It authenticates with a registered JWKS (private_key_jwt) or, in
    development only, a secret kept as a slow hash."""

    __tablename__ = "clients"

    client_id: str = Field(primary_key=True, max_length=64)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    name: str = Field(max_length=200)
    scopes: str = Field(max_length=500, description="Space-separated allowed scopes.")
    jwks: str | None = Field(default=None, sa_type=Text)
    secret_hash: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tokens_valid_after: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="Set when a disabled client is enabled again: its tokens issued in or "
        "before this second stay refused.",
    )
