"""Requests between agencies over HTTP: a cast of agencies with real tokens, and shortcuts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import SQLModel

from exchange_api.kit.clock import Clock
from exchange_api.models.assistance import AssistanceRequest
from tests.alerts.http import Desk, open_desk
from tests.auth_helpers import Registry

REQUESTS = SQLModel.metadata.tables[AssistanceRequest.__tablename__]
MESSAGE = "Please trace the exporter's licence history and the bank that paid for the drums."
REPLY = "Licence revoked in 2025; payments came through a Dubai exchange house, details follow."


@dataclass
class Cast:
    police: Desk  # NL law enforcement: reports the alerts
    customs: Desk  # BE customs: sees network alerts
    third: Desk  # DE law enforcement: sees them too, but is party to nothing
    industry: Desk  # sees only its own alerts


async def cast_of(registry: Registry, client: httpx.AsyncClient) -> Cast:
    return Cast(
        police=await open_desk(registry, client, "law_enforcement", "NL"),
        customs=await open_desk(registry, client, "customs", "BE"),
        third=await open_desk(registry, client, "law_enforcement", "DE"),
        industry=await open_desk(registry, client, "industry", "NL"),
    )


def request_body(to: Desk, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "to": str(to.agency.id),
        "kind": "backtracking",
        "message": MESSAGE,
        "due_by": (Clock().today() + timedelta(days=14)).isoformat(),
        "urgency": "urgent",
    }
    body.update(overrides)
    return body


async def ask(
    client: httpx.AsyncClient, sender: Desk, alert_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Send a request and return its metadata (fails the test on anything but 201)."""
    response = await client.post(
        f"/v1/alerts/{alert_id}/requests", json=body, headers=sender.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/requests/{created['id']}"
    return created


async def box(client: httpx.AsyncClient, desk: Desk, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/requests", params=params, headers=desk.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def stored_requests(app: FastAPI) -> int:
    with app.state.engine.connect() as connection:
        count: int = connection.scalar(select(func.count()).select_from(REQUESTS))
    return count


def stored_row(app: FastAPI, request_id: str) -> dict[str, Any]:
    with app.state.engine.connect() as connection:
        row = connection.execute(
            select(REQUESTS).where(REQUESTS.c.id == uuid.UUID(request_id))
        ).one()
    return dict(row._asdict())
