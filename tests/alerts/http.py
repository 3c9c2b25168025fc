"""HTTP helpers for the alert endpoint tests: agencies with real tokens, and problem checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from exchange_api.errors import PROBLEM_MEDIA_TYPE
from tests.auth_helpers import Registry, TestAgency

PURPOSE = {"X-Purpose": "case NL-2026-00123"}


@dataclass
class Desk:
    """An agency at the exchange with a real token (``alerts:read alerts:write`` by default)."""

    agency: TestAgency
    headers: dict[str, str]

    def reading(self) -> dict[str, str]:
        return {**self.headers, **PURPOSE}


async def open_desk(
    registry: Registry,
    client: httpx.AsyncClient,
    kind: str = "law_enforcement",
    country: str = "NL",
    scopes: str = "alerts:read alerts:write",
) -> Desk:
    agency = await registry.agency(kind=kind, country=country, scopes=scopes)
    return Desk(agency, await agency.headers(client))


async def push(client: httpx.AsyncClient, desk: Desk, body: dict[str, Any]) -> str:
    """Create an alert and return its id (fails the test on anything but 201)."""
    response = await client.post("/v1/alerts", json=body, headers=desk.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:exchange-api:problem:{slug}"
    assert body["status"] == status
    return body
