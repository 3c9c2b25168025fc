"""Checking a stretch of the stored chain on PostgreSQL fast, for ``exchange-api audit verify``.

:mod:`.verification` cuts the log into seq ranges and has parallel processes check them. Each
range is read here through one server-side cursor with every column as the text PostgreSQL
writes (no timestamp, JSON or ORM objects), and each entry's canonical JSON is assembled in
sorted key order: strings through the very escaping function ``json.dumps`` uses, lists of
plain strings and integers as PostgreSQL spelled them once checked to be spelled the canonical
way, ``at`` rearranged from PostgreSQL's ISO form. That is several times faster than building
each entry as a dict for :func:`~exchange_api.audit.chain.canonical_json`, and the same bytes.

:func:`check_range` returns a :class:`~.verify.VerifiedRun` for the longest prefix of its range
it can vouch for — entries present in seq order, each recomputing to its stated hash, each
linking to the one before — or ``None``. Anything else ends the run: an entry tampered with, a
gap, but also an honest entry this fast path does not handle (a list stored with escapes, say).
The caller has the rest of the range checked entry by entry by
:func:`~exchange_api.audit.verify.verify_chain`, which names what is wrong: this module only
ever accepts, it never decides a verdict.

It relies on the column types it was written for; :func:`fast_check_applies` says whether the
database has them (if not, verification walks entry by entry throughout).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Final

import psycopg
from psycopg.types.string import TextLoader
from sqlalchemy import Connection, text

from exchange_api.audit.verify import VerifiedRun, hash_from_hex

__all__ = ["RangeReadError", "RangeTask", "check_range", "fast_check_applies"]

# The hashed fields in canonical (sorted) key order, then the two hashes.
_COLUMNS: Final = (
    "action",
    "actor",
    "agency",
    "at",
    "client_id",
    "fields",
    "outcome",
    "purpose",
    "request_id",
    "resource_ids",
    "result_count",
    "seq",
    "source_ip",
    "token_id",
    "prev_hash",
    "hash",
)
_TEXT_TYPES: Final = frozenset({"text", "character varying"})
_COLUMN_TYPES: Final[dict[str, frozenset[str]]] = {
    **dict.fromkeys(_COLUMNS, _TEXT_TYPES),
    "seq": frozenset({"bigint", "integer"}),
    "at": frozenset({"timestamp with time zone"}),
    "result_count": frozenset({"integer", "bigint", "smallint"}),
    "fields": frozenset({"json", "jsonb"}),
    "resource_ids": frozenset({"json", "jsonb"}),
}
_LOADED_AS_TEXT: Final = ("int2", "int4", "int8", "json", "jsonb", "timestamptz")
# Timestamps in UTC and ISO form, and the primary-key index walked in order whatever the
# planner's statistics say (without any, it may choose to sort the whole range).
_SESSION: Final = (
    "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; "
    "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"
)
_SELECT: Final = (
    f"SELECT {', '.join(_COLUMNS)} FROM audit_entries "  # noqa: S608 -- constant names
    "WHERE seq BETWEEN %s AND %s ORDER BY seq"
)
_BATCH: Final = 2000
# A JSON list of strings that need no escaping, spelled as json.dumps and jsonb do (", "
# between the items) or compactly as COPY writes it (","): its canonical form is the compact one.
_PLAIN_STRING_LIST: Final = re.compile(r'\[(?:"[^"\\\x00-\x1f]*"(?:, ?"[^"\\\x00-\x1f]*")*)?\]')
_PG_UTC_TIME: Final = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00")
_MEMO_SIZE: Final = 4096
_MAX_SAFE_DIGITS: Final = 15  # with its sign, any integer this short is inside ±(2**53 - 1)

_Row = Sequence[str | None]


class RangeReadError(Exception):
    """A range could not be read; the message names the error type only (no row data)."""


@dataclass(frozen=True, slots=True)
class RangeTask:
    """One range for a worker: the database (a libpq URI) and the checkpoint seqs inside."""

    database_uri: str
    first_seq: int
    last_seq: int
    checkpoint_seqs: tuple[int, ...]


def fast_check_applies(connection: Connection) -> bool:
    """Whether the entries table is on PostgreSQL with the column types this module reads."""
    if connection.dialect.name != "postgresql":
        return False
    rows = connection.execute(
        text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'audit_entries'::regclass AND attnum > 0 AND NOT attisdropped"
        )
    )
    types = {name: type_name.split("(")[0] for name, type_name in rows}
    return all(types.get(name) in allowed for name, allowed in _COLUMN_TYPES.items())


def check_range(task: RangeTask) -> VerifiedRun | None:
    """The longest prefix of ``task``'s range that verifies (see the module docstring)."""
    try:
        with psycopg.connect(task.database_uri) as connection:
            for type_name in _LOADED_AS_TEXT:
                connection.adapters.register_loader(type_name, TextLoader)
            connection.execute(_SESSION)
            with connection.cursor(name="audit_range") as cursor:
                cursor.execute(_SELECT, (task.first_seq, task.last_seq))
                batches = iter(lambda: cursor.fetchmany(_BATCH), [])
                return _accept(
                    itertools.chain.from_iterable(batches), task.first_seq, task.checkpoint_seqs
                )
    except psycopg.Error as exc:
        raise RangeReadError(f"cannot read the audit entries: {type(exc).__name__}") from None


class _Memo(dict[str | None, str]):
    """The JSON of values met before, ``""`` for one the fast path does not take.

    Most columns repeat from entry to entry (an action, an agency, a client, its token), and a
    lookup costs a fraction of encoding again (``request_id`` hardly repeats, and is encoded
    each time). Cleared when full, so memory stays bounded.
    """

    def __init__(self, encode: Callable[[str], str | None], null: str) -> None:
        super().__init__({None: null})
        self._encode = encode
        self._null = null

    def __missing__(self, value: str | None) -> str:
        assert value is not None  # always present: set in __init__ and after each clear
        if len(self) >= _MEMO_SIZE:
            self.clear()
            self[None] = self._null
        encoded = self[value] = self._encode(value) or ""
        return encoded


def _accept(
    rows: Iterable[_Row], first_seq: int, checkpoint_seqs: Iterable[int]
) -> VerifiedRun | None:
    """The run of ``rows`` (the range from ``first_seq``, in seq order) that verifies.

    An entry's canonical JSON is its fields in sorted key order, each as ``json.dumps`` writes
    it; one loop, as few steps per entry as it takes, because this is where the time goes.
    """
    wanted = frozenset(checkpoint_seqs)
    hashes: dict[int, bytes] = {}
    strings = _Memo(encode_basestring, null="null")
    lists = _Memo(_string_list, null="")  # a list column is never null
    seq = first_seq - 1
    first_prev = head_raw = b""
    head_hex: str | None = None
    sha256 = hashlib.sha256
    for (
        action,
        actor,
        agency,
        at,
        client_id,
        groups,
        outcome,
        purpose,
        request_id,
        resource_ids,
        result_count,
        seq_text,
        source_ip,
        token_id,
        prev_hex,
        stated_hex,
    ) in rows:
        if seq_text != str(seq + 1) or at is None or resource_ids is None:
            break
        if result_count is not None and len(result_count) > _MAX_SAFE_DIGITS:
            break
        moment = _audit_time(at)
        groups_json = lists[groups]
        resource_ids_json = _string_list(resource_ids)
        if not (moment and groups_json and resource_ids_json):
            break
        canonical = "".join(
            (
                '{"action":',
                strings[action],
                ',"actor":',
                strings[actor],
                ',"agency":',
                strings[agency],
                ',"at":"',
                moment,
                '","client_id":',
                strings[client_id],
                ',"fields":',
                groups_json,
                ',"outcome":',
                strings[outcome],
                ',"purpose":',
                strings[purpose],
                ',"request_id":',
                "null" if request_id is None else encode_basestring(request_id),
                ',"resource_ids":',
                resource_ids_json,
                ',"result_count":',
                "null" if result_count is None else result_count,
                ',"seq":',
                seq_text,
                ',"source_ip":',
                strings[source_ip],
                ',"token_id":',
                strings[token_id],
                "}",
            )
        )
        if seq < first_seq:  # the first row: its prev_hash is taken as given
            first_prev = hash_from_hex(prev_hex) or b""
            if not first_prev:
                break
            head_hex, head_raw = prev_hex, first_prev
        elif prev_hex != head_hex:
            break
        try:
            digest = sha256(head_raw + canonical.encode()).digest()
        except UnicodeEncodeError:  # a lone surrogate: not canonical JSON
            break
        if digest.hex() != stated_hex:
            break
        seq += 1
        head_hex, head_raw = stated_hex, digest
        if seq in wanted:
            hashes[seq] = head_raw
    if seq < first_seq:
        return None
    return VerifiedRun(
        first_seq=first_seq, last_seq=seq, prev_hash=first_prev, last_hash=head_raw, hashes=hashes
    )


def _audit_time(value: str) -> str | None:
    """``at`` as hashed (:func:`~exchange_api.audit.chain.format_audit_time`), from PostgreSQL's
    ISO spelling in UTC: ``2026-11-28 14:03:07.123456+00`` becomes
    ``2026-11-28T14:03:07.123456Z``, and PostgreSQL's dropped trailing zeros are put back."""
    if len(value) == 29 and value[10] == " " and value[19] == "." and value.endswith("+00"):
        return value[:10] + "T" + value[11:26] + "Z"
    match = _PG_UTC_TIME.fullmatch(value)
    if match is None:
        return None
    date, clock, fraction = match.groups()
    return f"{date}T{clock}.{(fraction or '').ljust(6, '0')}Z"


def _string_list(value: str) -> str | None:
    """The canonical JSON of a stored list of plain strings, else ``None``."""
    if not _PLAIN_STRING_LIST.fullmatch(value):
        return None
    return value.replace('", "', '","')
