"""The auditor API: events with filters and cursors, the export, checkpoints and keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from exchange_api.audit import AuditAction, Outcome, load_public_keys_from_jwks, verify_chain
from exchange_api.audit.checkpoints import Checkpoint
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.audit.verify import iter_ndjson
from exchange_api.kit.pagination import INTEGER_KEYS
from tests.audit.conftest import AUDITOR_OFFICER, stored_entries
from tests.audit.independent_verifier import verify_export
from tests.auth_helpers import Registry

ALERT_A = "0193a1b2-c3d4-7e5f-8a9b-00000000000a"
BEYOND = INTEGER_KEYS.encode(2**63)
ALERT_B = "0193a1b2-c3d4-7e5f-8a9b-00000000000b"


def record_directly(app: FastAPI, *events: tuple[AuditAction, dict[str, Any]]) -> None:
    """Append entries as a request would (the recorder, flushed at commit)."""
    factory = app.state.session_factory
    with factory() as session:
        recorder = AuditRecorder(
            app.state.audit_log,
            session,
            request_id="seed",
            source_ip="192.0.2.7",
            identity=lambda: AuditIdentity(),
        )
        for action, fields in events:
            recorder.record(action, **fields)
        recorder.flush()
        session.commit()


def officer(name: str, agency: str = "agency-1") -> AuditIdentity:
    return AuditIdentity(actor=name, client_id=f"client-of-{name}", agency=agency, token_id="t")


async def events(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Any]:
    response = await client.get("/v1/audit/events", headers=headers, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_events_are_filtered_by_every_criterion(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    agency_x = "0193a1b2-0000-7000-8000-0000000000aa"
    record_directly(
        app,
        (
            AuditAction.ALERT_READ,
            {"resource_ids": [ALERT_A], "identity": officer("anna", agency_x)},
        ),
        (
            AuditAction.ALERT_SEARCH,
            {"resource_ids": [ALERT_A, ALERT_B], "identity": officer("ben")},
        ),
        (
            AuditAction.ACCESS_DENIED,
            {"resource_ids": [ALERT_B], "outcome": Outcome.DENIED, "identity": officer("ben")},
        ),
    )

    async def seqs(**params: str) -> list[int]:
        return [item["seq"] for item in (await events(client, auditor, **params))["items"]]

    # Entry 1 is the auditor's token; 2-4 the ones above; each call below adds an audit.read.
    assert await seqs(alert_id=ALERT_A) == [2, 3]
    assert await seqs(alert_id=ALERT_B) == [3, 4]
    assert await seqs(actor="ben") == [3, 4]
    assert await seqs(agency=agency_x) == [2]
    assert await seqs(client_id="client-of-anna") == [2]
    assert await seqs(action="alert.search") == [3]
    assert await seqs(outcome="denied") == [4]
    assert await seqs(actor="ben", outcome="allowed", alert_id=ALERT_B) == [3]
    assert await seqs(actor=AUDITOR_OFFICER, action="audit.read") == list(range(5, 13))


async def test_events_are_filtered_by_time(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    record_directly(app, (AuditAction.ALERT_READ, {"resource_ids": [ALERT_A]}))
    entries = stored_entries(app)
    at = entries[-1]["at"]

    page_after = await events(client, auditor, after=at)
    page_before = await events(client, auditor, before=at, alert_id=ALERT_A)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    page_from_the_future = await events(client, auditor, after=later)

    assert all(item["at"] > at for item in page_after["items"])
    assert page_before["items"] == []
    assert page_from_the_future["items"] == []
    naive = await client.get(
        "/v1/audit/events", headers=auditor, params={"after": "2026-01-01T00:00:00"}
    )
    assert naive.status_code == 400


async def test_times_past_the_ends_of_utc_bound_nothing_out_and_everything_in(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """A moment whose offset carries it past year 9999 or before year 1 in UTC stands for that
    end of time (it was a 500: the log's times are UTC, and UTC cannot write it)."""
    record_directly(app, (AuditAction.ALERT_READ, {"resource_ids": [ALERT_A]}))
    last_day, first_day = "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"

    assert (await events(client, auditor, after=last_day))["items"] == []
    assert (await events(client, auditor, before=first_day))["items"] == []
    everything = await events(client, auditor, before=last_day, after=first_day, alert_id=ALERT_A)
    assert [item["resource_ids"] for item in everything["items"]] == [[ALERT_A]]


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    record_directly(app, *[(AuditAction.ALERT_READ, {"resource_ids": [ALERT_A]})] * 7)

    seen: list[int] = []
    params = {"alert_id": ALERT_A, "limit": "3"}
    while True:
        page = await events(client, auditor, **params)
        seen.extend(item["seq"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        # Entries appended meanwhile (each read adds one) only ever come after.
        record_directly(app, (AuditAction.ALERT_READ, {"resource_ids": [ALERT_A]}))

    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert len(seen) >= 7


async def test_events_refuse_unknown_filters_and_bad_cursors(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    unknown = await client.get("/v1/audit/events", headers=auditor, params={"who": "x"})
    cursor = await client.get("/v1/audit/events", headers=auditor, params={"cursor": "abc"})
    # A well-formed cursor past the largest seq a column holds (2**63): it was a 500.
    beyond = await client.get("/v1/audit/events", headers=auditor, params={"cursor": BEYOND})
    action = await client.get("/v1/audit/events", headers=auditor, params={"action": "x.y"})

    assert unknown.status_code == 400
    assert unknown.json()["type"].endswith(":unknown-query-parameter")
    assert cursor.status_code == 400
    assert cursor.json()["type"].endswith(":invalid-cursor")
    assert beyond.status_code == 400
    assert beyond.json()["type"].endswith(":invalid-cursor")
    assert action.status_code == 400


async def test_each_event_is_shown_as_it_was_hashed(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    record_directly(
        app,
        (
            AuditAction.ALERT_READ,
            {"resource_ids": [ALERT_A], "fields": ["parties"], "purpose": "case «NL-2026-17»"},
        ),
    )

    page = await events(client, auditor, alert_id=ALERT_A)

    assert page["items"] == [stored_entries(app)[1]]


async def test_the_export_is_the_whole_chain_and_an_independent_verifier_agrees(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    record_directly(
        app,
        *[(AuditAction.ALERT_SEARCH, {"resource_ids": [ALERT_A, ALERT_B], "result_count": 2})] * 5,
    )
    signed = await client.post("/v1/audit/checkpoints", headers=auditor)
    keys = await client.get("/v1/audit/keys", headers=auditor)

    export = await client.get("/v1/audit/export", headers=auditor)

    assert signed.status_code == 201, signed.text
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in export.content.splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert int(export.headers["x-audit-last-seq"]) == len(lines)
    assert lines == stored_entries(app)[: len(lines)]
    verdict = verify_export(export.content, [signed.json()], keys.json())
    assert verdict.ok, verdict.problem
    assert verdict.head_hash == lines[-1]["hash"]
    ours = verify_chain(
        iter_ndjson(export.content.splitlines(keepends=True)),
        [Checkpoint.from_dict(signed.json())],
        load_public_keys_from_jwks(keys.json()),
        log_id=app.state.audit_log.log_id,
    )
    assert ours.ok
    assert ours.last_hash == verdict.head_hash
    assert ours.anchored_seq == signed.json()["seq"]


async def test_an_export_from_a_later_seq_starts_there(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    record_directly(app, *[(AuditAction.ALERT_READ, {"resource_ids": [ALERT_A]})] * 4)

    export = await client.get("/v1/audit/export", headers=auditor, params={"from_seq": "3"})
    beyond = await client.get("/v1/audit/export", headers=auditor, params={"from_seq": "999"})

    lines = [json.loads(line) for line in export.content.splitlines()]
    assert lines[0]["seq"] == 3
    assert lines[0]["prev_hash"] == stored_entries(app)[1]["hash"]
    assert beyond.status_code == 200
    assert beyond.content == b""
    assert (
        await client.get("/v1/audit/export", headers=auditor, params={"from_seq": "0"})
    ).status_code == 400


async def test_checkpoints_on_demand_and_the_latest(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    none_yet = await client.get("/v1/audit/checkpoints/latest", headers=auditor)
    first = await client.post("/v1/audit/checkpoints", headers=auditor)
    latest = await client.get("/v1/audit/checkpoints/latest", headers=auditor)

    assert none_yet.status_code == 404
    assert first.status_code == 201
    checkpoint = first.json()
    assert set(checkpoint) == {"log_id", "seq", "hash", "at", "kid", "signature"}
    assert checkpoint["log_id"] == "http://127.0.0.1:8000/v1/audit"
    entries = stored_entries(app)
    # It pins the log as it was before the request that asked for it.
    assert entries[checkpoint["seq"] - 1]["hash"] == checkpoint["hash"]
    assert entries[checkpoint["seq"]]["action"] == "audit.checkpoint"
    assert latest.json() == checkpoint
    keys = load_public_keys_from_jwks((await client.get("/v1/audit/keys", headers=auditor)).json())
    assert checkpoint["kid"] in keys


async def test_the_keys_are_a_jwks_of_ed25519_public_keys(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    response = await client.get("/v1/audit/keys", headers=auditor)

    [key] = response.json()["keys"]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert "d" not in key
    assert set(load_public_keys_from_jwks(response.json())) == {key["kid"]}


async def test_every_audit_endpoint_needs_the_audit_scope(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    agency = await registry.agency(scopes="alerts:read alerts:write network:admin clients:admin")
    headers = await agency.headers(client)
    calls = [
        ("GET", "/v1/audit/events"),
        ("GET", "/v1/audit/export"),
        ("GET", "/v1/audit/checkpoints/latest"),
        ("POST", "/v1/audit/checkpoints"),
        ("GET", "/v1/audit/keys"),
    ]
    for method, path in calls:
        without = await client.request(method, path)
        wrong_scope = await client.request(method, path, headers=headers)
        assert without.status_code == 401, path
        assert wrong_scope.status_code == 403, path
        assert wrong_scope.json()["required_scope"] == "audit:read"
