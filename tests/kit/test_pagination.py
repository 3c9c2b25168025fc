"""One keyset pagination for every list: opaque cursors that round-trip, and a 400
``invalid-cursor`` — never a database error — for anything that is not a cursor of that list."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from exchange_api.kit.pagination import (
    INTEGER_KEYS,
    TEXT_KEYS,
    UUID_KEYS,
    InvalidCursor,
    KeyKind,
    page_of,
)
from tests.alerts.http import assert_problem, open_desk
from tests.auth_helpers import Registry


def _raw(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (UUID_KEYS, uuid.UUID("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")),
        (INTEGER_KEYS, 1),
        (INTEGER_KEYS, 2**62),
        (INTEGER_KEYS, 2**63 - 1),  # the largest seq a BIGINT column holds
        (TEXT_KEYS, "demo-customs"),
        (TEXT_KEYS, "50-00-0"),
        (TEXT_KEYS, "Zoll-Düsseldorf"),
    ],
)
def test_a_cursor_gives_back_its_key_and_looks_opaque(kind: KeyKind[object], key: object) -> None:
    cursor = kind.encode(key)
    assert kind.decode(cursor) == key
    assert str(key) not in cursor
    assert "=" not in cursor


@pytest.mark.parametrize(
    ("kind", "cursor"),
    [
        (UUID_KEYS, "not base64!"),
        (UUID_KEYS, _raw(b"\x02" + bytes(16))),  # an unknown format byte
        (UUID_KEYS, _raw(b"\x01" + bytes(15))),  # a key one byte short
        (UUID_KEYS, INTEGER_KEYS.encode(7)),  # another list's cursor
        (INTEGER_KEYS, UUID_KEYS.encode(uuid.UUID("01a24e2a-b06c-76ff-aa12-286d62c56e1e"))),
        (INTEGER_KEYS, _raw(b"\x01\x80" + bytes(7))),  # 2**63: no BIGINT column holds it
        (INTEGER_KEYS, _raw(b"\x01" + b"\xff" * 8)),
        (TEXT_KEYS, _raw(b"\x01abc\x00def")),  # NUL would reach the database
        (TEXT_KEYS, _raw(b"\x01\xff\xfe")),  # not UTF-8
        (TEXT_KEYS, _raw(b"\x01")),  # empty
        (TEXT_KEYS, "ümlaut"),  # not ASCII at all
    ],
)
def test_anything_else_is_an_invalid_cursor(kind: KeyKind[object], cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        kind.decode(cursor)


def test_a_page_knows_whether_another_follows() -> None:
    rows = [10, 20, 30]
    assert page_of(rows, 2, INTEGER_KEYS, lambda row: row) == ([10, 20], INTEGER_KEYS.encode(20))
    assert page_of(rows[:2], 2, INTEGER_KEYS, lambda row: row) == ([10, 20], None)
    assert page_of([], 2, INTEGER_KEYS, lambda row: row) == ([], None)


LISTS = [
    ("/v1/alerts", "alerts:read"),
    ("/v1/substances", "alerts:read"),
    ("/v1/audit/events", "audit:read"),
    ("/v1/admin/agencies", "network:admin"),
    ("/v1/admin/clients", "network:admin clients:admin"),
]
BAD_CURSORS = [
    "%%%",
    _raw(b"\x01abc\x00def"),
    _raw(b"\x09" + bytes(16)),
    _raw(b"\x01" + bytes(3)),
]


@pytest.mark.parametrize(("path", "scope"), LISTS)
async def test_every_list_pages_the_same_way_and_refuses_a_bad_cursor(
    registry: Registry, client: httpx.AsyncClient, path: str, scope: str
) -> None:
    desk = await open_desk(registry, client, scopes=scope)
    await open_desk(registry, client)  # a second agency and client, so that lists have two items
    seen: list[object] = []
    params: dict[str, str | int] = {"limit": 1}
    for _ in range(3):
        response = await client.get(path, params=params, headers=desk.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) >= {"items", "next_cursor"}
        assert len(body["items"]) <= 1
        seen.extend(str(item) for item in body["items"])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert len(seen) == len(set(seen))  # a page never repeats the previous one
    for cursor in BAD_CURSORS:
        refused = await client.get(path, params={"cursor": cursor}, headers=desk.headers)
        assert_problem(refused, 400, "invalid-cursor")
