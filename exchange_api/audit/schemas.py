"""API models of the auditor API (docs/contract.md §6, "Reading and exporting").

An event is shown exactly as it is hashed, plus ``prev_hash`` and ``hash``: an auditor can
recompute any entry's hash from what this API returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from exchange_api.audit.chain import AuditAction, Outcome, SealedEntry
from exchange_api.audit.checkpoints import Checkpoint
from exchange_api.kit.pagination import Page

__all__ = ["AuditEventList", "AuditEventRead", "AuditKeySet", "CheckpointRead", "PublicAuditKey"]

_HEX = r"^[0-9a-f]{64}$"


class AuditEventRead(BaseModel):
    """One audit log entry: who did what to which resources, when, why, and its chain links."""

    model_config = ConfigDict(title="AuditEvent")

    seq: int = Field(ge=1, description="Position in the log: 1, 2, … without gaps.")
    at: str = Field(
        description="RFC 3339 UTC with microseconds, e.g. 2026-11-28T14:03:07.123456Z; "
        "exactly the string that was hashed."
    )
    actor: str | None = Field(description="The access token's sub: the officer, or the client.")
    client_id: str | None
    agency: str | None = Field(description="The id of the caller's agency.")
    action: AuditAction
    resource_ids: list[str] = Field(description="Every alert (or other resource) id touched.")
    result_count: int | None = Field(description="How many results a read or search returned.")
    fields: list[str] = Field(description="The field groups decrypted for the caller (names).")
    purpose: str | None = Field(description="Why, as the caller stated it (X-Purpose).")
    token_id: str | None = Field(description="The access token's jti.")
    request_id: str | None = Field(description="The X-Request-ID of the request.")
    source_ip: str | None
    outcome: Outcome
    prev_hash: str = Field(pattern=_HEX, description="The previous entry's hash (hex).")
    hash: str = Field(
        pattern=_HEX,
        description="SHA-256 over prev_hash's 32 bytes and the RFC 8785 canonical JSON of the "
        "entry without prev_hash and hash (hex).",
    )

    @classmethod
    def of(cls, entry: SealedEntry) -> AuditEventRead:
        return cls.model_validate(entry)


class AuditEventList(Page[AuditEventRead]):
    """One page of audit entries, oldest first."""


class CheckpointRead(BaseModel):
    """A signed statement "entry `seq` of log `log_id` has hash `hash`" (Ed25519, base64url
    over the canonical JSON of `{log_id, seq, hash, at}`)."""

    model_config = ConfigDict(title="AuditCheckpoint")

    log_id: str
    seq: int = Field(ge=0)
    hash: str = Field(pattern=_HEX)
    at: str
    kid: str = Field(description="The RFC 7638 thumbprint of the signing key (see /keys).")
    signature: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CheckpointRead:
        return cls.model_validate(checkpoint.as_dict())


class PublicAuditKey(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class AuditKeySet(BaseModel):
    """The JWKS of the keys that sign audit checkpoints."""

    keys: list[PublicAuditKey]
