"""The tamper-evident audit log (docs/contract.md §6): chain, signed checkpoints, offline checks.

The contract (pure, no database):

- :mod:`.chain` — what an entry is (:class:`AuditEntry`), the canonical JSON and the hash rule;
  :func:`seal_entry` turns an entry into its export line.
- :mod:`.checkpoints` — Ed25519-signed ``{log_id, seq, hash, at}`` and the JWKS of their keys.
- :mod:`.verify` — :func:`verify_chain` over an export (:func:`iter_ndjson`) or any stream of
  lines, with the checkpoints and public keys; it names the first bad seq.

The service around it:

- :mod:`.recorder` — ``AuditDep``: the one way other domains record what happened; it buffers a
  request's events and puts them in the intake just before its commit (503 ``audit-unavailable``
  if not).
- :mod:`.denials` — refusals (401, 403, a hidden alert's 404), recorded by the error handler.
- :mod:`.appender` — :class:`~.appender.AuditLog`, the only writer: takes entries into the
  intake, chains them under the chain-head lock, signs checkpoints (every N entries, every
  interval, on demand); :mod:`.sequencer` — the task in every worker that chains the intake.
- :mod:`.repository`, :mod:`.service`, :mod:`.schemas`, :mod:`.endpoints` — the auditor API;
  :mod:`.background` — the time-based checkpoints; :mod:`.verification` (with
  :mod:`.range_check`, the parallel ranges on PostgreSQL) and :mod:`.commands` —
  ``exchange-api audit verify`` and ``audit checkpoint``.
"""

from exchange_api.audit.chain import (
    ENTRY_FIELDS,
    GENESIS_HASH,
    HASH_SIZE,
    AuditAction,
    AuditEntry,
    CanonicalizationError,
    InvalidEntryError,
    Outcome,
    SealedEntry,
    canonical_entry_bytes,
    canonical_json,
    compute_hash,
    format_audit_time,
    parse_audit_time,
    seal_entry,
)
from exchange_api.audit.checkpoints import (
    Checkpoint,
    InvalidCheckpointError,
    InvalidJWKSError,
    key_id,
    load_public_keys_from_jwks,
    public_jwks,
    sign_checkpoint,
    verify_checkpoint,
)
from exchange_api.audit.verify import (
    MalformedExportError,
    VerificationReport,
    iter_ndjson,
    verify_chain,
)

__all__ = [
    "ENTRY_FIELDS",
    "GENESIS_HASH",
    "HASH_SIZE",
    "AuditAction",
    "AuditEntry",
    "CanonicalizationError",
    "Checkpoint",
    "InvalidCheckpointError",
    "InvalidEntryError",
    "InvalidJWKSError",
    "MalformedExportError",
    "Outcome",
    "SealedEntry",
    "VerificationReport",
    "canonical_entry_bytes",
    "canonical_json",
    "compute_hash",
    "format_audit_time",
    "iter_ndjson",
    "key_id",
    "load_public_keys_from_jwks",
    "parse_audit_time",
    "public_jwks",
    "seal_entry",
    "sign_checkpoint",
    "verify_chain",
    "verify_checkpoint",
]
