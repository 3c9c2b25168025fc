"""The audit log's hash chain: what an entry is and how it is hashed (docs/contract.md §6).

Auditors re-implement this rule from the design text, so it must never drift:

    hash = SHA-256( prev_hash  ||  UTF-8 RFC 8785 canonical JSON of the entry without
                                   ``prev_hash`` and ``hash`` )

``prev_hash`` is 32 raw bytes (32 zero bytes, :data:`GENESIS_HASH`, for seq 1); in exports and
the API both hashes are lower-case hex. Every entry carries exactly the fields of
:class:`AuditEntry`; an exported line is that entry plus ``prev_hash`` and ``hash``
(:class:`SealedEntry`), nothing else, so anyone can recompute the chain from the export alone.

Canonical JSON: for values made only of strings, integers, booleans, nulls, lists and objects,
``json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` produces exactly the
RFC 8785 form (the tests prove it against the ``rfc8785`` package) and is several times faster,
which the verifier needs. :func:`canonical_json` therefore refuses everything where the two could
differ: floats (RFC 8785 prints them the ECMAScript way), integers outside ±(2**53 - 1), object
keys outside the Basic Multilingual Plane (RFC 8785 sorts keys by UTF-16 code units, Python by
code points; they agree inside the BMP), lone surrogates, and any other type. Asked to
(``floats=True``), it takes floats too where their two forms can be made to agree.

A hash chain has no secret: whoever can write the table can rewrite a suffix and recompute every
hash after it. The chain makes edits, deletions and reordering *visible*; the signed checkpoints
(:mod:`exchange_api.audit.checkpoints`) are what pin a chain position to something a rewriter
cannot forge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypedDict

__all__ = [
    "ENTRY_FIELDS",
    "GENESIS_HASH",
    "HASH_SIZE",
    "AuditAction",
    "AuditEntry",
    "CanonicalizationError",
    "InvalidEntryError",
    "Outcome",
    "SealedEntry",
    "canonical_entry_bytes",
    "canonical_json",
    "compute_hash",
    "format_audit_time",
    "parse_audit_time",
    "seal_entry",
]

HASH_SIZE: Final = 32
GENESIS_HASH: Final = bytes(HASH_SIZE)


class AuditAction(StrEnum):
    """Every action the audit log records."""

    TOKEN_ISSUE = "token.issue"  # noqa: S105 -- an action name, not a secret
    TOKEN_DENY = "token.deny"  # noqa: S105
    TOKEN_REVOKE = "token.revoke"  # noqa: S105
    TOKEN_INTROSPECT = "token.introspect"  # noqa: S105
    ALERT_CREATE = "alert.create"
    ALERT_CREATE_REPLAY = "alert.create.replay"
    ALERT_READ = "alert.read"
    ALERT_UPDATE = "alert.update"
    ALERT_SEARCH = "alert.search"
    ALERT_HISTORY = "alert.history"
    ALERT_LINKS = "alert.links"
    ALERT_SHRED = "alert.shred"
    FOLLOWUP_CREATE = "followup.create"
    FOLLOWUP_READ = "followup.read"
    AGENCY_LIST = "agency.list"
    AGENCY_READ = "agency.read"
    REQUEST_CREATE = "request.create"
    REQUEST_LIST = "request.list"
    REQUEST_READ = "request.read"
    REQUEST_REPLY = "request.reply"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    ADMIN_AGENCY_CREATE = "admin.agency.create"
    ADMIN_AGENCY_LIST = "admin.agency.list"
    ADMIN_CLIENT_CREATE = "admin.client.create"
    ADMIN_CLIENT_LIST = "admin.client.list"
    ADMIN_CLIENT_DISABLE = "admin.client.disable"
    ADMIN_CLIENT_ENABLE = "admin.client.enable"
    ADMIN_KEYS_ROTATE = "admin.keys.rotate"
    ADMIN_KEYS_REWRAP = "admin.keys.rewrap"
    ACCESS_DENIED = "access.denied"
    EVENT_READ = "event.read"
    EVENT_DELIVER = "event.deliver"
    SUBSCRIPTION_CREATE = "subscription.create"
    SUBSCRIPTION_READ = "subscription.read"
    SUBSCRIPTION_DELETE = "subscription.delete"
    SUBSCRIPTION_RESUME = "subscription.resume"
    STATISTICS_READ = "statistics.read"


class Outcome(StrEnum):
    """How the audited request ended."""

    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


class AuditEntry(TypedDict):
    """One audit record as hashed: exactly the fields of docs/contract.md §6, without the hashes."""

    seq: int
    at: str
    """RFC 3339 UTC with microseconds and ``Z``; see :func:`format_audit_time`."""
    actor: str | None
    client_id: str | None
    agency: str | None
    action: AuditAction
    resource_ids: list[str]
    result_count: int | None
    fields: list[str]
    purpose: str | None
    token_id: str | None
    request_id: str | None
    source_ip: str | None
    outcome: Outcome


class SealedEntry(AuditEntry):
    """An entry with its chain links: one line of the export."""

    prev_hash: str
    hash: str


ENTRY_FIELDS: Final[tuple[str, ...]] = tuple(AuditEntry.__annotations__)
"""The hashed fields, in the order :func:`seal_entry` writes them."""

_OPTIONAL_TEXT_FIELDS: Final = (
    "actor",
    "client_id",
    "agency",
    "purpose",
    "token_id",
    "request_id",
    "source_ip",
)
_TEXT_LIST_FIELDS: Final = ("resource_ids", "fields")
_ACTION_VALUES: Final = frozenset(action.value for action in AuditAction)
_OUTCOME_VALUES: Final = frozenset(outcome.value for outcome in Outcome)
_MAX_SAFE_INT: Final = 2**53 - 1
_MIN_POSITIONAL_FLOAT: Final = 1e-4
# Exactly these types (not subclasses) need no further look: ints need their range checked.
_PLAIN_SCALARS: Final = frozenset({str, bool, type(None)})
_MAX_DEPTH: Final = 16
_AUDIT_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"

_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False,
    sort_keys=True,
    separators=(",", ":"),
    allow_nan=False,
    # _refuse_non_canonical bounds the depth, so a cycle cannot get this far.
    check_circular=False,
)


class CanonicalizationError(ValueError):
    """A value has no canonical JSON form under this contract."""


class InvalidEntryError(ValueError):
    """An audit entry does not have the shape docs/contract.md §6 prescribes."""


def format_audit_time(moment: datetime) -> str:
    """``moment`` as the entry's ``at``: RFC 3339 UTC, always six fractional digits, ``Z``."""
    if moment.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_audit_time(text: str) -> datetime:
    """The aware UTC datetime of an ``at`` value; refuses any other spelling of the same time.

    One spelling per instant matters because ``at`` is hashed: whoever stores entries must be
    able to give back the exact string, and ``format_audit_time(parse_audit_time(s)) == s``.
    """
    try:
        moment = datetime.strptime(text, _AUDIT_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        moment = None
    if moment is None or format_audit_time(moment) != text:
        raise ValueError("not an audit time like 2026-11-28T14:03:07.123456Z")
    return moment


def _float_value(value: float) -> int | float:
    """A float as json.dumps must meet it to write its RFC 8785 form, or a refusal.

    RFC 8785 writes numbers the ECMAScript way: an integral one without ``.0`` (as the int
    writes it, up to ±(2**53 - 1)), another in the shortest digits that read back as the same
    float — as Python's ``repr`` does, and in positional notation from 1e-4 on, where Python
    switches to it too. Smaller and unsafe ones (and NaN, infinities) are left to the caller.
    """
    if value.is_integer() and -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return int(value)
    if _MIN_POSITIONAL_FLOAT <= abs(value) < _MAX_SAFE_INT:
        return value
    raise CanonicalizationError("a float whose RFC 8785 form json.dumps does not write")


def _canonical_value(value: object, depth: int, floats: bool) -> object:
    """``value``, or a copy with floats as json.dumps must meet them (``floats``); raises unless
    it is in the subset where json.dumps is exactly RFC 8785.

    This runs on every entry when a chain is verified, so the common cases (exactly str, None,
    bool or int; a list of those) are decided by exact type first; subclasses such as a
    StrEnum take the slower isinstance route. A container is copied only if a float in it is.
    """
    if type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, dict):
        try:
            ascii_keys = "".join(value).isascii()
        except TypeError:
            raise CanonicalizationError("object keys must be strings") from None
        if not ascii_keys and any(ord(char) > 0xFFFF for key in value for char in key):
            raise CanonicalizationError("object keys outside the BMP are not allowed")
        _check_depth(depth)
        copied: dict[Any, Any] | None = None
        for key, item in value.items():
            kind = type(item)
            if kind in _PLAIN_SCALARS or (kind is int and -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT):
                continue
            canonical = _canonical_value(item, depth + 1, floats)
            if canonical is not item:
                copied = dict(value) if copied is None else copied
                copied[key] = canonical
        return value if copied is None else copied
    if isinstance(value, list):
        if _PLAIN_SCALARS.issuperset(map(type, value)):
            return value
        _check_depth(depth)
        listed: list[Any] | None = None
        for index, item in enumerate(value):
            kind = type(item)
            if kind in _PLAIN_SCALARS or (kind is int and -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT):
                continue
            canonical = _canonical_value(item, depth + 1, floats)
            if canonical is not item:
                listed = list(value) if listed is None else listed
                listed[index] = canonical
        return value if listed is None else listed
    if isinstance(value, float):
        if floats:
            return _float_value(float(value))
        raise CanonicalizationError("floats are not allowed in canonical audit JSON")
    if isinstance(value, int):
        if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            return value
        raise CanonicalizationError("integer outside the I-JSON range ±(2**53 - 1)")
    if isinstance(value, str):
        return value
    raise CanonicalizationError(f"{type(value).__name__} is not a canonical JSON value")


def _check_depth(depth: int) -> None:
    if depth >= _MAX_DEPTH:
        raise CanonicalizationError("JSON nested too deeply")


def canonical_json(value: Mapping[str, object], *, floats: bool = False) -> bytes:
    """The UTF-8 RFC 8785 canonical JSON of a JSON object (the only canonicaliser we have).

    Audit entries hold no floats, and one there is refused. ``floats=True`` (a request body's
    ``Idempotency-Key`` hash) takes those whose RFC 8785 form json.dumps can be made to write
    (see :func:`_float_value`); the others are refused too.
    """
    document = value if type(value) is dict else dict(value)
    canonical = _canonical_value(document, 0, floats)
    try:
        return _ENCODER.encode(canonical).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("string is not valid Unicode (lone surrogate)") from exc


def canonical_entry_bytes(entry_without_hashes: Mapping[str, object]) -> bytes:
    """The bytes an entry's hash covers; refuses an entry that still carries its hashes."""
    if "hash" in entry_without_hashes or "prev_hash" in entry_without_hashes:
        raise InvalidEntryError("prev_hash and hash are not part of the hashed entry")
    return canonical_json(entry_without_hashes)


def compute_hash(prev_hash: bytes, entry_without_hashes: Mapping[str, object]) -> bytes:
    """SHA-256 over the previous entry's raw hash followed by this entry's canonical bytes."""
    if len(prev_hash) != HASH_SIZE:
        raise ValueError(f"prev_hash must be {HASH_SIZE} raw bytes")
    return hashlib.sha256(prev_hash + canonical_entry_bytes(entry_without_hashes)).digest()


def _check_entry(entry: Mapping[str, object]) -> None:
    """Refuse an entry whose fields or types differ from docs/contract.md §6 (mypy cannot see
    runtime)."""
    if set(entry) != set(ENTRY_FIELDS):
        missing = sorted(set(ENTRY_FIELDS) - set(entry))
        unexpected = sorted(set(entry) - set(ENTRY_FIELDS))
        raise InvalidEntryError(f"entry fields: missing {missing}, unexpected {unexpected}")
    seq = entry["seq"]
    if type(seq) is not int or seq < 1:
        raise InvalidEntryError("seq must be a positive integer")
    at = entry["at"]
    try:
        parse_audit_time(at if isinstance(at, str) else "")
    except ValueError as exc:
        raise InvalidEntryError(f"at: {exc}") from None
    for name in _OPTIONAL_TEXT_FIELDS:
        if not (entry[name] is None or isinstance(entry[name], str)):
            raise InvalidEntryError(f"{name} must be a string or null")
    for name in _TEXT_LIST_FIELDS:
        items = entry[name]
        if not (isinstance(items, list) and all(isinstance(item, str) for item in items)):
            raise InvalidEntryError(f"{name} must be a list of strings")
    count = entry["result_count"]
    if not (count is None or (type(count) is int and count >= 0)):
        raise InvalidEntryError("result_count must be a non-negative integer or null")
    action, outcome = entry["action"], entry["outcome"]
    if not (isinstance(action, str) and action in _ACTION_VALUES):
        raise InvalidEntryError("action is not an audit action")
    if not (isinstance(outcome, str) and outcome in _OUTCOME_VALUES):
        raise InvalidEntryError("outcome must be allowed, denied or error")


def seal_entry(prev_hash: bytes, entry: AuditEntry) -> SealedEntry:
    """Check ``entry``, chain it after ``prev_hash`` and return its export line.

    The result is a fresh dict (later changes to the caller's lists cannot desynchronise it from
    its hash) with the fields in :data:`ENTRY_FIELDS` order, then ``prev_hash`` and ``hash`` as
    lower-case hex.
    """
    _check_entry(entry)
    body = AuditEntry(
        seq=entry["seq"],
        at=entry["at"],
        actor=entry["actor"],
        client_id=entry["client_id"],
        agency=entry["agency"],
        action=AuditAction(entry["action"]),
        resource_ids=list(entry["resource_ids"]),
        result_count=entry["result_count"],
        fields=list(entry["fields"]),
        purpose=entry["purpose"],
        token_id=entry["token_id"],
        request_id=entry["request_id"],
        source_ip=entry["source_ip"],
        outcome=Outcome(entry["outcome"]),
    )
    digest = compute_hash(prev_hash, body)
    return SealedEntry(**body, prev_hash=prev_hash.hex(), hash=digest.hex())
