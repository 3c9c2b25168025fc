"""The client against a real server on loopback: tokens (client, officer, DPoP, renewal), pages,
and every kind of refusal raised as its own exception."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from exchange_client import AsyncClient, Client, TokenRefused
from exchange_client.api.alerts import calls as alert_calls
from exchange_client.auth import Credentials
from exchange_client.errors import (
    IdempotencyKeyReused,
    InsufficientScope,
    InvalidCursor,
    NotFound,
    NotOwner,
    PreconditionFailed,
    PurposeRequired,
    UnknownQueryParameter,
    ValidationFailed,
)
from exchange_client.rows import EXAMPLE
from tests.sdk.conftest import ServerFactory


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def alert(reference: str) -> dict[str, Any]:
    return {**EXAMPLE, "reference": reference}


def test_sync_client_officer_dpop_pages_and_problems(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    customs = live.register("customs")
    police = live.register("law_enforcement")
    reader = live.register("customs", scopes="alerts:read")
    with Client(live.url, customs.client_id, customs.key_path, officer="NL-0042") as exchange:
        token = exchange.token()
        assert token.token_type == "DPoP"
        claims = claims_of(token.value)
        assert claims["sub"] == "NL-0042"
        assert claims["client_id"] == customs.client_id
        assert "jkt" in claims["cnf"]

        ids = [exchange.alerts.create(alert(f"REF-{n}"))["id"] for n in range(5)]
        found = list(exchange.alerts.search(reporting_agency=customs.agency_id, limit=2))
        assert [a["id"] for a in found] == ids[::-1]  # newest first, over 3 pages of 2
        read = exchange.alerts.get(ids[0], purpose="case NL-1")
        assert read["reference"] == "REF-0"  # type: ignore[typeddict-item]

        with pytest.raises(NotFound) as missing:
            exchange.alerts.get("0193a0a0-0000-7000-8000-000000000000", purpose="case")
        assert missing.value.problem["type"] == "urn:exchange-api:problem:not-found"
        with pytest.raises(PurposeRequired):
            list(exchange.alerts.search(party="Example Chemical Trading Co."))
        with pytest.raises(ValidationFailed) as invalid:
            exchange.alerts.create({**EXAMPLE, "detected_on": "not a date"})
        assert invalid.value.errors[0]["loc"][:2] == ["body", "detected_on"]
        exchange.alerts.create(alert("A"), idempotency_key="same-key")
        with pytest.raises(IdempotencyKeyReused):
            exchange.alerts.create(alert("B"), idempotency_key="same-key")
        exchange.alerts.update(ids[0], {"status": "backtracking"}, version=1)
        with pytest.raises(PreconditionFailed):
            exchange.alerts.update(ids[0], {"status": "open"}, version=1)
        with pytest.raises(InvalidCursor):
            exchange.call(alert_calls.search(None, None, {}).with_param("cursor", "x"))
        with pytest.raises(UnknownQueryParameter):
            exchange.call(alert_calls.search(None, None, {"colour": "red"}))

    with Client(live.url, police.client_id, police.key_path) as other, pytest.raises(NotOwner):
        other.alerts.update(ids[1], {"status": "open"}, version=1)
    read_only = Client(live.url, reader.client_id, reader.key_path)
    with read_only, pytest.raises(InsufficientScope):
        read_only.alerts.create(alert("C"))
    with Client(live.url, "no-such-client", customs.key_path) as stranger:
        with pytest.raises(TokenRefused) as refused:
            list(stranger.substances.search("ephedrine"))
        assert refused.value.error == "invalid_client"


@pytest.mark.parametrize("key", ["RSA", "OKP"])
async def test_async_client_with_rsa_and_ed25519_keys(
    exchange_server: ServerFactory, key: str
) -> None:
    live = exchange_server()
    agency = live.register("customs", key=key)
    async with AsyncClient(live.url, agency.client_id, agency.key_path) as exchange:
        assert (await exchange.token()).token_type == "DPoP"
        receipt = await exchange.alerts.create(alert("ASYNC-1"))
        second = await exchange.alerts.create(alert("ASYNC-2"))
        found = [a["id"] async for a in exchange.alerts.search(substance="103-79-7", limit=1)]
        assert found == [second["id"], receipt["id"]]
        names = [s["name"] async for s in exchange.substances.search("ephedrine", limit=1)]
        assert "Ephedrine" in names


def test_tokens_are_renewed_before_expiry_and_after_revocation(
    exchange_server: ServerFactory,
) -> None:
    live = exchange_server(access_token_lifetime="30")
    agency = live.register("customs")
    with Client(live.url, agency.client_id, agency.key_path) as exchange:
        first = exchange.token()
        assert exchange.substances.get("299-42-3")["name"] == "Ephedrine"
        time.sleep(15.5)  # past half the life: renewed before the server would refuse it
        assert exchange.substances.get("299-42-3")["name"] == "Ephedrine"
        second = exchange.token()
        assert second.value != first.value

        # A revoked token is refused (401): the client gets a new one and the call goes through.
        form = Credentials(agency.client_id, exchange._session.credentials.key).token_form(
            live.url + "/oauth/token"
        )
        form = {k: v for k, v in form.items() if k.startswith("client_assertion")}
        revoked = httpx.post(live.url + "/oauth/revoke", data={**form, "token": second.value})
        assert revoked.status_code == 200
        assert exchange.substances.get("299-42-3")["name"] == "Ephedrine"
        assert exchange.token().value not in (first.value, second.value)
