"""What the authorization server must remember between requests, across workers and machines.

Each row carries ``expires_at``: once that has passed the row protects nothing (the assertion,
proof or token it names would be refused as expired anyway), so it can be purged.

Single use is enforced by the primary key, not by a read-then-write: two workers inserting the same
identifier at once cannot both succeed. Client-chosen identifiers (``jti``) are stored as SHA-256
digests, so their length and content are never a concern of the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from exchange_api.models.types import UTCDateTime, utc_now

__all__ = ["RevokedToken", "SeenDPoPProof", "UsedClientAssertion"]


class UsedClientAssertion(SQLModel, table=True):
    """A client-signed JWT (client assertion or JWT-bearer grant) already presented once."""

    __tablename__ = "used_client_assertions"

    client_id: str = Field(primary_key=True, max_length=64)
    jti_digest: str = Field(primary_key=True, max_length=64, description="SHA-256 hex of the jti.")
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class SeenDPoPProof(SQLModel, table=True):
    """A DPoP proof already presented once (RFC 9449 §11.1 replay cache)."""

    __tablename__ = "seen_dpop_proofs"

    proof_digest: str = Field(
        primary_key=True, max_length=64, description="SHA-256 hex of the key thumbprint and jti."
    )
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class RevokedToken(SQLModel, table=True):
    """An access token revoked before its expiry (RFC 7009)."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=64)
    revoked_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
