"""The committed OpenAPI document against the real server, by schemathesis.

Every operation of ``openapi/openapi.json`` gets a bounded number of generated requests, valid
ones and invalid ones, sent over HTTP to the app served by uvicorn on loopback, on the test
database, with real tokens from ``POST /oauth/token`` for an agency of every kind. Each answer
must not be a 5xx, and its status, content type and body must be what the document says.
docs/architecture.md ("The OpenAPI document against the server") says what the run covers and
what it bounds.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange_api.app import create_app
from exchange_api.config import Settings
from exchange_api.models.agencies import AgencyKind
from tests.alerts.builders import alert_body
from tests.alerts.http import PURPOSE, open_desk, push
from tests.assistance.helpers import ask, request_body
from tests.auth_helpers import Registry
from tests.followups.builders import follow

REPO = Path(__file__).resolve().parent.parent
SCHEMA = schemathesis.openapi.from_path(REPO / "openapi" / "openapi.json")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ALL_SCOPES = "alerts:read alerts:write audit:read clients:admin network:admin"
#: Generated requests per operation, valid and invalid ones mixed.
EXAMPLES = 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, Registry]]:
    """The app served by uvicorn on a loopback port, in a thread of this process."""
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_config=None)
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}", Registry(app)
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Seeded:
    """Real tokens for an agency of every kind, and real records for path parameters."""

    tokens: list[dict[str, str]]
    path_parameters: dict[str, str]

    def known_to(self, operation: APIOperation) -> dict[str, str]:
        """The seeded values of ``operation``'s path parameters (none if it has others)."""
        names = re.findall(r"{(\w+)}", operation.path)
        if not names or any(name not in self.path_parameters for name in names):
            return {}
        return {name: self.path_parameters[name] for name in names}


async def _seed(base_url: str, registry: Registry) -> Seeded:
    """A desk of each kind with every scope; an alert of the police with a follow-up, a request
    to customs and a watch list; a spare agency whose client the admin operations may change."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        desks = {
            kind: await open_desk(registry, client, kind, scopes=ALL_SCOPES) for kind in AgencyKind
        }
        police, customs = desks[AgencyKind.LAW_ENFORCEMENT], desks[AgencyKind.CUSTOMS]
        alert_id = await push(client, police, alert_body())
        followup_id = await follow(client, police, alert_id)
        request = await ask(client, police, alert_id, request_body(customs))
        watch = await client.post(
            "/v1/subscriptions",
            json={"name": "PMK", "filter": {"substance": ["4433-77-6"]}},
            headers=police.reading(),
        )
        assert watch.status_code == 201, watch.text
        spare = await registry.agency(kind="regulatory", country="BE")
    return Seeded(
        tokens=[desk.headers for desk in desks.values()],
        path_parameters={
            "alert_id": alert_id,
            "followup_id": followup_id,
            "request_id": str(request["id"]),
            "subscription_id": str(watch.json()["id"]),
            "agency_id": str(spare.id),
            "client_id": spare.client_id,
            "cas": "4433-77-6",
        },
    )


def _bounded(case: Case) -> Case:
    """The feed answers at once: no long-poll wait and no Server-Sent Events stream."""
    if case.operation.path == "/v1/events":
        if isinstance((case.query or {}).get("wait"), int | float):
            case.query["wait"] = 0
        if "text/event-stream" in str((case.headers or {}).get("accept", "")):
            del case.headers["accept"]
    return case


def test_every_operation_answers_as_documented(server: tuple[str, Registry]) -> None:
    base_url, registry = server
    seeded = asyncio.run(_seed(base_url, registry))
    failures: dict[str, str] = {}
    for result in SCHEMA.get_all_operations():
        operation = result.ok()
        generated = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if known := seeded.known_to(operation):
            generated.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=st.one_of(generated), token=st.sampled_from(seeded.tokens), purpose=st.booleans()
        )
        def answers(case: Case, token: dict[str, str], purpose: bool) -> None:
            headers: dict[str, Any] = {**token, **(PURPOSE if purpose else {})}
            response = _bounded(case).call(base_url=base_url, headers=headers, timeout=10)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            answers()
        except (Exception, FailureGroup) as exc:  # every operation's failure, not the first only
            failures[operation.label] = str(exc)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
