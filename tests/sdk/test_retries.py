"""Retries through a proxy that misbehaves: a create answered 503, then sent on but its answer
dropped, is stored once and answered with its receipt, every attempt under one key."""

from __future__ import annotations

from collections.abc import Callable

from exchange_client import Client
from exchange_client.rows import EXAMPLE
from tests.sdk.conftest import Live, Proxy

PLAN = {0: "503", 1: "drop"}  # then forward


def test_a_create_answered_503_then_dropped_is_stored_once(
    proxied_server: Callable[..., tuple[Live, Proxy]],
) -> None:
    live, proxy = proxied_server(
        lambda method, path, seen: (
            PLAN.get(seen, "forward") if (method, path) == ("POST", "/v1/alerts") else "forward"
        )
    )
    agency = live.register("customs")
    with Client(live.url, agency.client_id, agency.key_path) as exchange:
        receipt = exchange.alerts.create({**EXAMPLE, "reference": "RETRIED"})
        found = [a["id"] for a in exchange.alerts.search(reporting_agency=agency.agency_id)]
    assert found == [receipt["id"]]
    attempts = [h for m, p, h in proxy.requests if (m, p) == ("POST", "/v1/alerts")]
    assert len(attempts) == 3
    assert len({h["Idempotency-Key"] for h in attempts}) == 1
    assert len({h["DPoP"] for h in attempts}) == 3  # a fresh proof for each attempt
