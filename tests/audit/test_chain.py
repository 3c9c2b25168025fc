"""The hash rule of docs/contract.md §6, pinned by literal vectors, and the canonical JSON."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785

from exchange_api.audit.chain import (
    ENTRY_FIELDS,
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    CanonicalizationError,
    InvalidEntryError,
    Outcome,
    canonical_entry_bytes,
    canonical_json,
    compute_hash,
    format_audit_time,
    parse_audit_time,
    seal_entry,
)
from tests.audit.builders import make_entry

GOLDEN_ENTRY = AuditEntry(
    seq=1,
    at="2026-11-28T14:03:07.123456Z",
    actor="officer-17",
    client_id="customs-nl",
    agency="0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    action=AuditAction.ALERT_READ,
    resource_ids=["0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60"],
    result_count=1,
    fields=["routing", "persons"],
    purpose="Ermittlung §29 BtMG \u2013 Zoll",
    token_id=None,
    request_id="req-1",
    source_ip="192.0.2.10",
    outcome=Outcome.ALLOWED,
)
# Written by hand from docs/contract.md §6: keys sorted, no spaces, UTF-8, null for None.
GOLDEN_CANONICAL = (
    '{"action":"alert.read","actor":"officer-17","agency":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",'
    '"at":"2026-11-28T14:03:07.123456Z","client_id":"customs-nl","fields":["routing","persons"],'
    '"outcome":"allowed","purpose":"Ermittlung §29 BtMG \u2013 Zoll","request_id":"req-1",'
    '"resource_ids":["0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60"],"result_count":1,"seq":1,'
    '"source_ip":"192.0.2.10","token_id":null}'
)
GOLDEN_HASH = "f821daa1e2ba263daca0cfb12cec1343141cafea89fe7f15e391781d56f9d6fe"
SECOND_ENTRY = AuditEntry(
    seq=2,
    at="2026-11-28T14:03:08.000000Z",
    actor=None,
    client_id=None,
    agency=None,
    action=AuditAction.ALERT_SEARCH,
    resource_ids=[],
    result_count=None,
    fields=[],
    purpose=None,
    token_id=None,
    request_id=None,
    source_ip=None,
    outcome=Outcome.DENIED,
)
SECOND_CANONICAL = (
    '{"action":"alert.search","actor":null,"agency":null,"at":"2026-11-28T14:03:08.000000Z",'
    '"client_id":null,"fields":[],"outcome":"denied","purpose":null,"request_id":null,'
    '"resource_ids":[],"result_count":null,"seq":2,"source_ip":null,"token_id":null}'
)
SECOND_HASH = "2ecabe9f1717ad723fc819642effe406df6bf21c0a6b5105087edbdaac51560a"


def test_golden_vector_first_entry_hashes_over_32_zero_bytes() -> None:
    by_hand = hashlib.sha256(bytes(32) + GOLDEN_CANONICAL.encode("utf-8")).hexdigest()

    assert canonical_entry_bytes(GOLDEN_ENTRY) == GOLDEN_CANONICAL.encode("utf-8")
    assert compute_hash(GENESIS_HASH, GOLDEN_ENTRY).hex() == by_hand == GOLDEN_HASH


def test_golden_vector_second_entry_hashes_over_the_raw_previous_hash() -> None:
    by_hand = hashlib.sha256(
        bytes.fromhex(GOLDEN_HASH) + SECOND_CANONICAL.encode("utf-8")
    ).hexdigest()

    assert compute_hash(bytes.fromhex(GOLDEN_HASH), SECOND_ENTRY).hex() == by_hand == SECOND_HASH


def test_seal_entry_gives_the_export_line() -> None:
    first = seal_entry(GENESIS_HASH, GOLDEN_ENTRY)
    second = seal_entry(bytes.fromhex(first["hash"]), SECOND_ENTRY)

    assert list(first) == [*ENTRY_FIELDS, "prev_hash", "hash"]
    assert first["prev_hash"] == "00" * 32
    assert first["hash"] == GOLDEN_HASH
    assert second["prev_hash"] == GOLDEN_HASH
    assert second["hash"] == SECOND_HASH
    assert json.loads(json.dumps(first))["action"] == "alert.read"


def test_entry_fields_are_those_of_the_design() -> None:
    assert set(ENTRY_FIELDS) == {
        "seq",
        "at",
        "actor",
        "client_id",
        "agency",
        "action",
        "resource_ids",
        "result_count",
        "fields",
        "purpose",
        "token_id",
        "request_id",
        "source_ip",
        "outcome",
    }


def test_audit_actions() -> None:
    assert {action.value for action in AuditAction} == {
        "token.issue",
        "token.deny",
        "token.revoke",
        "token.introspect",
        "alert.create",
        "alert.create.replay",
        "alert.read",
        "alert.update",
        "alert.search",
        "alert.history",
        "alert.links",
        "alert.shred",
        "followup.create",
        "followup.read",
        "agency.list",
        "agency.read",
        "request.create",
        "request.list",
        "request.read",
        "request.reply",
        "audit.read",
        "audit.export",
        "audit.checkpoint",
        "admin.agency.create",
        "admin.agency.list",
        "admin.client.create",
        "admin.client.list",
        "admin.client.disable",
        "admin.client.enable",
        "admin.keys.rotate",
        "admin.keys.rewrap",
        "access.denied",
        "event.read",
        "event.deliver",
        "subscription.create",
        "subscription.read",
        "subscription.delete",
        "subscription.resume",
        "statistics.read",
    }
    assert {outcome.value for outcome in Outcome} == {"allowed", "denied", "error"}


# --- canonical JSON: the json.dumps shortcut must be byte-identical to RFC 8785 -------------

_TRICKY_TEXT = [
    "",
    "plain",
    'quote " backslash \\ slash /',
    "controls \x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f end",
    "del \x7f, nbsp \xa0, soft hyphen \xad",
    "line sep \u2028 para sep \u2029 bom \ufeff",
    "Ærø Ünïcødé ß ﬁ Ω ≠ 中文 עברית العربية",
    "e\u0301 composed vs é",
    "astral 🔬🧪 \U0001d518\U0001d52b\U0001d526 \U0010ffff",
    "private \ue000 \uffff",
]
_TRICKY_KEYS = ["a", "B", "_", "aa", "a b", "é", "\u00e9\u0301", "\ue000", "\uffff", "10", "1"]
_TRICKY_INTS = [0, 1, -1, 42, 2**31, -(2**31), 2**53 - 1, -(2**53 - 1), 10**15]


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(_TRICKY_TEXT) + "".join(
            chr(rng.randrange(0x20, 0xD7FF)) for _ in range(rng.randrange(4))
        )
    if kind == 1:
        return rng.choice(_TRICKY_INTS)
    if kind == 2:
        return rng.randrange(-(2**53) + 1, 2**53)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice(_TRICKY_TEXT)
    if kind in (5, 6):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return _random_object(rng, depth + 1)


def _random_object(rng: random.Random, depth: int) -> dict[str, Any]:
    keys = rng.sample(_TRICKY_KEYS, rng.randrange(len(_TRICKY_KEYS)))
    return {key: _random_value(rng, depth) for key in keys}


def test_canonical_json_matches_rfc8785_on_varied_documents() -> None:
    rng = random.Random(8785)
    documents = [_random_object(rng, 0) for _ in range(3000)]
    documents += [dict(make_entry(seq)) for seq in range(1, 200)]

    for document in documents:
        assert canonical_json(document) == rfc8785.dumps(document)


@pytest.mark.parametrize("text", _TRICKY_TEXT)
def test_canonical_json_matches_rfc8785_on_each_tricky_string(text: str) -> None:
    # As a key only inside the BMP: canonical_json refuses astral keys (see below).
    as_key = {text: [text]} if all(ord(char) <= 0xFFFF for char in text) else {}
    document = {"value": text, **as_key}

    assert canonical_json(document) == rfc8785.dumps(document)


def test_canonical_json_sorts_keys_and_keeps_list_order() -> None:
    assert canonical_json({"b": [3, 1, 2], "a": {"d": None, "c": True}}) == (
        b'{"a":{"c":true,"d":null},"b":[3,1,2]}'
    )


def test_canonical_json_writes_a_strenum_as_its_value() -> None:
    assert canonical_json({"action": AuditAction.TOKEN_ISSUE}) == b'{"action":"token.issue"}'


_TRICKY_FLOATS = [0.0, -0.0, 1.0, -61.0, 0.5, 0.1, 1 / 3, 1e-4, -1.0001e-4, 37.5, 1e15 + 0.5]
_TRICKY_FLOATS += [2.0**52 + 0.5, 2.0**53 - 1, -(2.0**53 - 1), 123456789.125]


def test_canonical_json_with_floats_matches_rfc8785() -> None:
    rng = random.Random(8786)
    floats = _TRICKY_FLOATS + [
        rng.choice((1, -1)) * rng.uniform(1, 10) * 10.0 ** rng.randint(-4, 14) for _ in range(3000)
    ]
    documents = [{"x": value, "y": [value, {"z": [1, value]}]} for value in floats]
    documents += [{"f": rng.choice(floats), **_random_object(rng, 0)} for _ in range(500)]

    for document in documents:
        assert canonical_json(document, floats=True) == rfc8785.dumps(document)


@pytest.mark.parametrize(
    "value", [9.99e-5, 5e-324, 2.0**53, 1e16, 1e21, float("nan"), float("inf")], ids=repr
)
def test_canonical_json_with_floats_refuses_those_json_dumps_writes_otherwise(
    value: float,
) -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json({"x": [value]}, floats=True)


@pytest.mark.parametrize(
    "document",
    [
        {"x": 1.0},
        {"x": 0.5},
        {"x": [1, 2.5]},
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": 2**53},
        {"x": -(2**53)},
        {"x": 10**30},
        {"x": b"bytes"},
        {"x": (1, 2)},
        {"x": {1, 2}},
        pytest.param({"x": object()}, id="{'x': object()}"),  # the same id in every process
        {"x": {1: "int key"}},
        {"x": {None: "null key"}},
        {"\U0001f52c": "key outside the BMP"},
        {"x": "lone surrogate \ud800"},
        {"\udfff": "lone surrogate key"},
    ],
    ids=repr,
)
def test_canonical_json_refuses_what_has_no_shared_canonical_form(
    document: dict[str, Any],
) -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json(document)


def test_canonical_json_refuses_deep_nesting() -> None:
    document: dict[str, Any] = {"x": None}
    for _ in range(40):
        document = {"x": [document]}

    with pytest.raises(CanonicalizationError, match="nested"):
        canonical_json(document)


@pytest.mark.parametrize("key", ["hash", "prev_hash"])
def test_hashed_bytes_never_include_the_hashes(key: str) -> None:
    entry = {**make_entry(3), key: "00" * 32}

    with pytest.raises(InvalidEntryError):
        canonical_entry_bytes(entry)


@pytest.mark.parametrize("prev_hash", [b"", bytes(31), bytes(33), ("00" * 32).encode()])
def test_compute_hash_needs_32_raw_bytes(prev_hash: bytes) -> None:
    with pytest.raises(ValueError, match="32 raw bytes"):
        compute_hash(prev_hash, make_entry(1))


# --- audit time ------------------------------------------------------------------------------


def test_format_audit_time_is_utc_with_six_digits_and_z() -> None:
    cet = timezone(timedelta(hours=1))

    assert format_audit_time(datetime(2026, 11, 28, 15, 3, 7, 5, tzinfo=cet)) == (
        "2026-11-28T14:03:07.000005Z"
    )
    assert format_audit_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000000Z"
    )


def test_format_audit_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_audit_time(datetime(2026, 11, 28, 14, 3, 7))


def test_parse_audit_time_round_trips() -> None:
    text = "2026-11-28T14:03:07.123456Z"

    moment = parse_audit_time(text)

    assert moment == datetime(2026, 11, 28, 14, 3, 7, 123456, tzinfo=UTC)
    assert format_audit_time(moment) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T14:03:07Z",
        "2026-11-28T14:03:07.123Z",
        "2026-11-28T14:03:07.1234567Z",
        "2026-11-28T14:03:07.123456",
        "2026-11-28T14:03:07.123456z",
        "2026-11-28T14:03:07.123456+00:00",
        "2026-11-28 14:03:07.123456Z",
        "2026-02-30T14:03:07.123456Z",
        " 2026-11-28T14:03:07.123456Z",
        "",
    ],
)
def test_parse_audit_time_accepts_one_spelling_only(text: str) -> None:
    with pytest.raises(ValueError, match="not an audit time"):
        parse_audit_time(text)


# --- seal_entry checks the shape -------------------------------------------------------------


def test_seal_entry_copies_its_input() -> None:
    entry = make_entry(4, resource_ids=["a"], fields=["routing"])

    line = seal_entry(GENESIS_HASH, entry)
    entry["resource_ids"].append("b")
    entry["fields"].clear()

    assert line["resource_ids"] == ["a"]
    assert line["fields"] == ["routing"]
    body = {k: v for k, v in line.items() if k not in ("prev_hash", "hash")}
    assert compute_hash(GENESIS_HASH, body).hex() == line["hash"]


def test_seal_entry_accepts_plain_strings_for_enums() -> None:
    plain = seal_entry(GENESIS_HASH, make_entry(2, action="alert.read", outcome="error"))
    typed = seal_entry(
        GENESIS_HASH, make_entry(2, action=AuditAction.ALERT_READ, outcome=Outcome.ERROR)
    )

    assert plain == typed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seq": 0}, "seq"),
        ({"seq": True}, "seq"),
        ({"seq": "1"}, "seq"),
        ({"at": "2026-11-28T14:03:07Z"}, "at"),
        ({"at": None}, "at"),
        ({"actor": 17}, "actor"),
        ({"source_ip": b"10.0.0.1"}, "source_ip"),
        ({"resource_ids": "0193a1b2"}, "resource_ids"),
        ({"resource_ids": [1]}, "resource_ids"),
        ({"fields": None}, "fields"),
        ({"result_count": -1}, "result_count"),
        ({"result_count": 1.0}, "result_count"),
        ({"result_count": False}, "result_count"),
        ({"action": "alert.delete"}, "action"),
        ({"action": ["alert.read"]}, "action"),
        ({"outcome": "ok"}, "outcome"),
        ({"purpose": 2.5}, "purpose"),
    ],
)
def test_seal_entry_refuses_a_malformed_entry(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEntryError, match=message):
        seal_entry(GENESIS_HASH, make_entry(1, **overrides))


def test_seal_entry_refuses_missing_and_unexpected_fields() -> None:
    entry: dict[str, Any] = dict(make_entry(1))
    del entry["purpose"]
    entry["note"] = "not in the contract"

    with pytest.raises(InvalidEntryError, match=r"missing \['purpose'\], unexpected \['note'\]"):
        seal_entry(GENESIS_HASH, entry)  # type: ignore[arg-type]


def test_seal_entry_refuses_a_string_that_cannot_be_utf8() -> None:
    with pytest.raises(CanonicalizationError):
        seal_entry(GENESIS_HASH, make_entry(1, purpose="\udc80"))
