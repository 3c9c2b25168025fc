"""The audit log at rest (docs/contract.md §6): entries, the chain head, signed checkpoints.

- ``audit_entries``: one row per entry, exactly the hashed fields plus ``prev_hash`` and ``hash``
  (lower-case hex). ``at`` is a microsecond timestamp that :func:`format_audit_time` turns back
  into the very string that was hashed. Append-only: migration 0004 adds triggers that refuse
  UPDATE and DELETE (and TRUNCATE on PostgreSQL), so changing history takes dropping them first —
  and ``exchange-api audit verify`` then names the first entry touched.
- ``audit_entry_resources``: (resource id, seq) per id an entry names, so that "every access to
  alert X" is an index range. An index only: verification reads ``audit_entries``. No foreign
  key to the entries: both are written in one transaction by the chaining step and neither can
  lose a row, and the key's check per row was most of a search's database time (migration 0021).
- ``audit_chain_head``: the single row (id 1) holding the last seq, its hash and its time. Every
  append locks it (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write lock does the same), so
  appends from every worker and machine form one gapless chain.
- ``audit_checkpoints``: Ed25519-signed ``{log_id, seq, hash, at}``, one per seq at most.
- ``audit_intake``: entries recorded but not chained yet. A request inserts its entries here in
  its own transaction (no lock: concurrent requests commit together), and the sequencer
  (:mod:`exchange_api.audit.sequencer`) moves them into ``audit_entries`` in order of ``id``,
  deleting them from here in the same transaction. Rows may be inserted and deleted, never
  updated (migration 0005).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    Text,
)
from sqlmodel import Field, SQLModel

from exchange_api.models.types import UTCDateTime

__all__ = [
    "AuditChainHead",
    "AuditCheckpointRecord",
    "AuditEntryRecord",
    "AuditEntryResource",
    "AuditIntakeRecord",
]


class _RecordedFields(SQLModel):
    """What an entry says, as recorded (the hashed fields but ``seq``): shared by the intake
    and the chained entries."""

    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor: str | None = Field(default=None, max_length=200)
    client_id: str | None = Field(default=None, max_length=64)
    agency: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=32)
    resource_ids: list[str] = Field(sa_type=JSON, nullable=False)
    result_count: int | None = Field(default=None)
    fields: list[str] = Field(sa_type=JSON, nullable=False)
    purpose: str | None = Field(default=None, sa_type=Text)
    token_id: str | None = Field(default=None, max_length=128)
    request_id: str | None = Field(default=None, max_length=128)
    source_ip: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=8)


class AuditEntryRecord(_RecordedFields, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_seq", "actor", "seq"),
        Index("ix_audit_entries_agency_seq", "agency", "seq"),
        Index("ix_audit_entries_client_id_seq", "client_id", "seq"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_outcome_seq", "outcome", "seq"),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditEntryResource(SQLModel, table=True):
    __tablename__ = "audit_entry_resources"

    resource_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class AuditChainHead(SQLModel, table=True):
    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)
    at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditCheckpointRecord(SQLModel, table=True):
    __tablename__ = "audit_checkpoints"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    log_id: str = Field(max_length=200)
    hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    kid: str = Field(max_length=64)
    signature: str = Field(max_length=128)


class AuditIntakeRecord(_RecordedFields, table=True):
    """An entry as recorded, waiting for the sequencer to give it a seq and its hashes."""

    __tablename__ = "audit_intake"

    # INTEGER on SQLite, where only an INTEGER PRIMARY KEY is an auto-incrementing rowid.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
