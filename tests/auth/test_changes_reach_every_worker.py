"""Two workers on PostgreSQL, each keeping token states: a revocation, a disabled client and a
narrowed distribution hold on the very next request, on every worker.

The clients keep their connections (so each stays with one worker); which worker serves each
is read from the access log (its lines carry the worker's pid). Every connection first makes
its worker see the token or the alert, then the change is made, then every connection tries
again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alerts.builders import alert_body
from tests.audit.processes import served, service_env
from tests.auth_helpers import ASSERTION_TYPE, Registry, TestAgency
from tests.test_serving import wait_for_listeners, worker_of_request

pytestmark = pytest.mark.postgres_only

CONNECTIONS = 16


class Connections:
    """``CONNECTIONS`` kept connections to one server, each sending one request at a time."""

    def __init__(self, url: str, log: Path) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.clients = [
            httpx.AsyncClient(base_url=url, limits=limits, timeout=30) for _ in range(CONNECTIONS)
        ]
        self.log = log
        self.sent: list[list[str]] = [[] for _ in self.clients]
        self.count = 0

    async def each(self, path: str, headers: dict[str, str]) -> list[httpx.Response]:
        """GET ``path`` once on every connection, one after the other."""
        responses = []
        for index, client in enumerate(self.clients):
            self.count += 1
            request_id = f"conn-{index}-{self.count}"
            self.sent[index].append(request_id)
            responses.append(
                await client.get(path, headers={**headers, "X-Request-ID": request_id})
            )
        return responses

    def workers(self) -> set[int]:
        answered = worker_of_request(self.log)
        per_connection = [{answered[rid] for rid in ids if rid in answered} for ids in self.sent]
        assert all(len(pids) == 1 for pids in per_connection), "a connection changed worker"
        return {pid for pids in per_connection for pid in pids}

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


def statuses(responses: list[httpx.Response]) -> set[int]:
    return {response.status_code for response in responses}


def assertion_form(agency: TestAgency, **form: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": agency.assertion(), **form}


async def test_changes_hold_on_the_next_request_on_every_worker(
    registry: Registry, database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    reporter = await registry.agency(kind="customs", scopes="alerts:read alerts:write")
    reader = await registry.agency(kind="law_enforcement", scopes="alerts:read")
    operator = await registry.agency(
        kind="regulatory", scopes="alerts:read alerts:write audit:read network:admin clients:admin"
    )
    env = {**service_env(database_url, keys_dir), "EXCHANGE_LOG_LEVEL": "INFO"}
    log = tmp_path / "server.log"

    with served(env, workers=2, log=log) as server:
        wait_for_listeners(int(server.url.rsplit(":", 1)[1]), 2)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            writer = await reporter.headers(http)
            created = await http.post("/v1/alerts", json=alert_body(), headers=writer)
            assert created.status_code == 201, created.text
            alert = f"/v1/alerts/{created.json()['id']}"
            first: dict[str, Any] = await reader.token(http)
            second: dict[str, Any] = await reader.token(http)
            admin = await operator.headers(http)
        reading = {"X-Purpose": "case 17"}
        with_first = {**reading, "Authorization": f"Bearer {first['access_token']}"}
        with_second = {**reading, "Authorization": f"Bearer {second['access_token']}"}

        connections = Connections(server.url, log)
        try:
            # Narrowing: the alert goes from the whole network to its reporter alone.
            assert statuses(await connections.each(alert, with_first)) == {200}
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                narrowed = await http.patch(
                    alert,
                    json={"distribution": {"scope": "agencies", "agencies": [str(reporter.id)]}},
                    headers={
                        **writer,
                        "If-Match": created.headers["ETag"],
                        "Content-Type": "application/merge-patch+json",
                    },
                )
            assert narrowed.status_code == 200, narrowed.text
            assert statuses(await connections.each(alert, with_first)) == {404}

            # Revocation: the first token is refused everywhere; the second still works.
            catalogue = "/v1/substances"
            assert statuses(await connections.each(catalogue, with_first)) == {200}
            assert statuses(await connections.each(catalogue, with_second)) == {200}
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                form = assertion_form(reader, token=first["access_token"])
                assert (await http.post("/oauth/revoke", data=form)).status_code == 200
            assert statuses(await connections.each(catalogue, with_first)) == {401}
            assert statuses(await connections.each(catalogue, with_second)) == {200}

            # Disabling the client: its other token is refused everywhere too.
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                path = f"/v1/admin/clients/{reader.client_id}/disable"
                assert (await http.post(path, headers=admin)).status_code == 200
            assert statuses(await connections.each(catalogue, with_second)) == {401}

            assert len(connections.workers()) == 2, "the connections did not reach both workers"
        finally:
            await connections.close()
