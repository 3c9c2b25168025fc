"""Follow-up bodies and HTTP helpers for the follow-up tests."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.alerts.http import Desk

SUMMARY = "Container CSQU3054383 opened at Rotterdam; 1,150 kg BMK found behind the cleaner drums."
FOLLOWER_REFERENCE = "RTM-SEIZ-2026-0917"

_EXAMPLE: dict[str, Any] = {
    "kind": "seizure",
    "occurred_on": "2026-11-24",
    "summary": SUMMARY,
    "reference": FOLLOWER_REFERENCE,
    "seized": [{"cas": "103-79-7", "quantity": 1150, "unit": "kg"}],
    "arrests": 2,
    "corrects": None,
    "handling": {
        "code": "H1",
        "source_reliability": "A",
        "information_reliability": "1",
        "tlp": "amber",
    },
    "distribution": {"scope": "alert"},
}


def followup_body(**overrides: Any) -> dict[str, Any]:
    """The contract's example follow-up, with top-level members replaced by ``overrides``."""
    body = copy.deepcopy(_EXAMPLE)
    body.update(copy.deepcopy(overrides))
    return body


async def follow(client: httpx.AsyncClient, desk: Desk, alert_id: str, **overrides: Any) -> str:
    """Add a follow-up and return its id (fails the test on anything but 201)."""
    response = await client.post(
        f"/v1/alerts/{alert_id}/followups", json=followup_body(**overrides), headers=desk.headers
    )
    assert response.status_code == 201, response.text
    followup_id = str(response.json()["id"])
    assert response.headers["location"] == f"/v1/alerts/{alert_id}/followups/{followup_id}"
    return followup_id


async def listed(client: httpx.AsyncClient, desk: Desk, alert_id: str) -> list[dict[str, Any]]:
    """Every follow-up of the alert the desk sees, page by page (oldest first)."""
    items: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        response = await client.get(
            f"/v1/alerts/{alert_id}/followups", params=params, headers=desk.reading()
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items
        params["cursor"] = page["next_cursor"]
