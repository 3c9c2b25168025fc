"""``exchange-api agencies`` and ``clients``: bootstrap and administer without the admin API.

The commands run in-process (``main`` with the environment set), which is what the installed
script does minus interpreter start-up; ``tests/test_cli.py`` runs the command as a real process.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from joserfc.jwk import ECKey

from exchange_api.audit.operator import operator_name
from exchange_api.models.agencies import AgencyKind
from tests.audit.conftest import stored_entries
from tests.auth_helpers import ASSERTION_TYPE, Registry, TestAgency
from tests.conftest import ISSUER, Cli, Done


def add_agency(cli: Cli, name: str) -> dict[str, str]:
    done = cli("agencies", "add", "--name", name, "--country", "NL", "--kind", "customs")
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


def assert_one_line_refusal(done: Done, *words: str) -> None:
    assert done.returncode == 2
    stderr = done.stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr, stderr


async def test_agency_and_key_client_from_the_command_line(
    cli: Cli, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    agency = add_agency(cli, "Douane")
    assert uuid.UUID(agency["id"])
    assert agency == {"id": agency["id"], "name": "Douane", "country": "NL", "kind": "customs"}

    key = ECKey.generate_key("P-256")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    done = cli(
        "clients",
        "add",
        "--agency",
        agency["id"],
        "--scopes",
        "alerts:read",
        "--jwks",
        str(jwks_file),
    )
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout)
    assert set(registered) == {"client_id", "scopes"}
    assert registered["scopes"] == ["alerts:read"]

    holder = TestAgency(
        id=uuid.UUID(agency["id"]),
        kind=AgencyKind(agency["kind"]),
        client_id=registered["client_id"],
        private_key=key,
        issuer=ISSUER,
    )
    response = await client.get("/v1/substances", headers=await holder.headers(client))
    assert response.status_code == 200, response.text


async def test_secret_client_from_the_command_line(cli: Cli, client: httpx.AsyncClient) -> None:
    agency = add_agency(cli, "Dev agency")
    done = cli("clients", "add", "--agency", agency["id"], "--scopes", "alerts:read", "--secret")
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout)
    assert registered["client_secret"] not in done.stderr
    credentials = base64.b64encode(
        f"{registered['client_id']}:{registered['client_secret']}".encode()
    ).decode()
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200, response.text


def test_refusals_are_one_line(cli: Cli, tmp_path: Path) -> None:
    agency = add_agency(cli, "Once")
    assert_one_line_refusal(
        cli("agencies", "add", "--name", "Once", "--country", "BE", "--kind", "customs"),
        "already registered",
    )
    assert_one_line_refusal(
        cli("agencies", "add", "--name", "X", "--country", "XX", "--kind", "customs"),
        "country",
    )
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}))
    add_client = ("clients", "add", "--scopes", "alerts:read", "--jwks", str(private))
    assert_one_line_refusal(cli(*add_client, "--agency", agency["id"]), "private")
    assert_one_line_refusal(cli(*add_client, "--agency", str(uuid.uuid4())), "agency")
    assert_one_line_refusal(cli(*add_client, "--agency", "not-an-id"), "--agency")
    missing = ("clients", "add", "--agency", agency["id"], "--scopes", "alerts:read")
    assert_one_line_refusal(cli(*missing, "--jwks", str(tmp_path / "none.json")), "none.json")
    assert_one_line_refusal(
        cli(*missing, "--secret", EXCHANGE_ALLOW_CLIENT_SECRETS="false"),
        "EXCHANGE_ALLOW_CLIENT_SECRETS",
    )


def test_what_an_operator_registers_is_audited_as_that_operator(cli: Cli, app: FastAPI) -> None:
    agency = add_agency(cli, "Audited agency")
    done = cli("clients", "add", "--agency", agency["id"], "--scopes", "alerts:read", "--secret")
    assert done.returncode == 0, done.stderr
    client_id = json.loads(done.stdout)["client_id"]

    entries = [entry for entry in stored_entries(app) if entry["action"].startswith("admin.")]

    assert [(entry["action"], entry["resource_ids"]) for entry in entries] == [
        ("admin.agency.create", [agency["id"]]),
        ("admin.client.create", [client_id]),
    ]
    assert {(entry["actor"], entry["outcome"], entry["token_id"]) for entry in entries} == {
        (operator_name(), "allowed", None)
    }
    assert entries[0]["request_id"] != entries[1]["request_id"]
    assert json.loads(done.stdout)["client_secret"] not in json.dumps(entries)


def test_a_refused_registration_leaves_no_audit_entry(cli: Cli, app: FastAPI) -> None:
    refused = cli("agencies", "add", "--name", "X", "--country", "XX", "--kind", "customs")
    assert refused.returncode == 2

    assert [e for e in stored_entries(app) if e["action"].startswith("admin.")] == []


def test_agencies_and_clients_are_listed_as_the_admin_api_shows_them(
    cli: Cli, app: FastAPI
) -> None:
    first, second = add_agency(cli, "First listed"), add_agency(cli, "Second listed")
    add = ("clients", "add", "--scopes", "alerts:read", "--secret")
    registered = [json.loads(cli(*add, "--agency", a["id"]).stdout) for a in (first, second)]
    one, two = (r["client_id"] for r in registered)

    agencies = cli("agencies", "list")
    assert agencies.returncode == 0, agencies.stderr
    listed = json.loads(agencies.stdout)
    assert set(listed) == {"items"}
    assert [(a["id"], a["name"], a["kind"]) for a in listed["items"]] == [
        (first["id"], "First listed", "customs"),
        (second["id"], "Second listed", "customs"),
    ]

    every = json.loads(cli("clients", "list").stdout)["items"]
    assert sorted(c["client_id"] for c in every) == sorted([one, two])
    assert all(set(c) >= {"agency_id", "scopes", "disabled_at"} for c in every)
    assert all(r["client_secret"] not in json.dumps(every) for r in registered)
    assert "hash" not in json.dumps(every)
    of_second = json.loads(cli("clients", "list", "--agency", second["id"]).stdout)["items"]
    assert [(c["client_id"], c["agency_id"]) for c in of_second] == [(two, second["id"])]
    assert_one_line_refusal(cli("clients", "list", "--agency", "nope"), "--agency")

    lists = [
        (entry["action"], entry["result_count"], entry["actor"])
        for entry in stored_entries(app)
        if entry["action"].endswith(".list")
    ]
    assert lists == [
        ("admin.agency.list", 2, operator_name()),
        ("admin.client.list", 2, operator_name()),
        ("admin.client.list", 1, operator_name()),
    ]


def wait_for_the_next_second(instant: str) -> None:
    """A token's ``iat`` has whole seconds: one issued in the second of a disable is refused
    after an enable too (fail closed), so a new token is asked for after that second."""
    second = int(datetime.fromisoformat(instant).timestamp())
    while int(time.time()) <= second:
        time.sleep(0.05)


async def test_disable_and_enable_a_client(
    cli: Cli, app: FastAPI, registry: Registry, client: httpx.AsyncClient
) -> None:
    agency = await registry.agency(scopes="alerts:read")
    old_token = await agency.headers(client)
    assert (await client.get("/v1/substances", headers=old_token)).status_code == 200

    disabled = cli("clients", "disable", agency.client_id)
    assert disabled.returncode == 0, disabled.stderr
    shown = json.loads(disabled.stdout)
    assert shown["client_id"] == agency.client_id
    assert shown["disabled_at"] is not None
    refused = await client.get("/v1/substances", headers=old_token)
    assert refused.status_code == 401
    assert "disabled" in refused.headers["www-authenticate"]
    denied = await client.post("/oauth/token", data=agency.token_form())
    assert denied.status_code == 401

    wait_for_the_next_second(shown["disabled_at"])
    enabled = cli("clients", "enable", agency.client_id)
    assert enabled.returncode == 0, enabled.stderr
    assert json.loads(enabled.stdout)["disabled_at"] is None
    still_refused = await client.get("/v1/substances", headers=old_token)
    assert still_refused.status_code == 401
    assert "before its client was disabled" in still_refused.headers["www-authenticate"]
    introspected = await client.post(
        "/oauth/introspect",
        data={
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": agency.assertion(),
            "token": old_token["Authorization"].split(" ", 1)[1],
        },
    )
    assert introspected.status_code == 200, introspected.text
    assert introspected.json() == {"active": False}

    new_token = await agency.headers(client)
    assert (await client.get("/v1/substances", headers=new_token)).status_code == 200

    again = cli("clients", "enable", agency.client_id)  # enabling an enabled client: no change
    assert again.returncode == 0, again.stderr
    assert (await client.get("/v1/substances", headers=new_token)).status_code == 200

    changes = [
        (entry["action"], entry["resource_ids"], entry["actor"])
        for entry in stored_entries(app)
        if entry["action"] in {"admin.client.disable", "admin.client.enable"}
    ]
    assert changes == [
        ("admin.client.disable", [agency.client_id], operator_name()),
        ("admin.client.enable", [agency.client_id], operator_name()),
        ("admin.client.enable", [agency.client_id], operator_name()),
    ]


def test_an_unknown_client_is_one_line(cli: Cli, app: FastAPI) -> None:
    for command in ("disable", "enable"):
        assert_one_line_refusal(cli("clients", command, "no-such-client"), "No client")
    assert [e for e in stored_entries(app) if e["action"].startswith("admin.")] == []
