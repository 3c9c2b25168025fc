"""Who sees which follow-up, and which of its texts, tried as each agency kind would: a narrowed
follow-up is absent for those left out — from the list, the alert's count and stage, the stage
search filter and the history alike."""

from __future__ import annotations

from typing import Any

import httpx

from tests.alerts.builders import alert_body
from tests.alerts.http import Desk, open_desk, push
from tests.auth_helpers import Registry
from tests.followups.builders import FOLLOWER_REFERENCE, SUMMARY, follow, listed


async def _read(client: httpx.AsyncClient, desk: Desk, alert_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/alerts/{alert_id}", headers=desk.reading())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _found(client: httpx.AsyncClient, desk: Desk, stage: str) -> set[str]:
    response = await client.get("/v1/alerts", params={"stage": stage}, headers=desk.headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def _history(client: httpx.AsyncClient, desk: Desk, alert_id: str) -> list[str]:
    response = await client.get(f"/v1/alerts/{alert_id}/history", headers=desk.headers)
    assert response.status_code == 200, response.text
    return [item["followup"] for item in response.json()["items"] if item["event"] == "followup"]


async def test_a_narrowed_follow_up_is_invisible_everywhere_to_those_left_out(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    police = await open_desk(registry, client)
    customs = await open_desk(registry, client, "customs", "BE")
    prosecution = await open_desk(registry, client, "prosecution", "FR")
    regulator = await open_desk(registry, client, "regulatory", "DE")
    other_police = await open_desk(registry, client, "law_enforcement", "DE")
    alert_id = await push(client, police, alert_body())
    version = (await client.get(f"/v1/alerts/{alert_id}", headers=police.reading())).headers["etag"]

    opened = await follow(client, police, alert_id, kind="investigation_opened", seized=[])
    seized = await follow(client, customs, alert_id)
    decided = await follow(
        client,
        prosecution,
        alert_id,
        kind="court_decision",
        seized=[],
        distribution={"scope": "agencies", "agencies": [str(customs.agency.id)]},
    )
    everything = [opened, seized, decided]
    without_decision = [opened, seized]

    expected = {
        "reporting agency": (police, everything, "court_decision"),
        "listed agency": (customs, everything, "court_decision"),
        "follower": (prosecution, everything, "court_decision"),
        "regulator left out": (regulator, without_decision, "seizure"),
        "police left out": (other_police, without_decision, "seizure"),
    }
    for who, (desk, ids, stage) in expected.items():
        assert [item["id"] for item in await listed(client, desk, alert_id)] == ids, who
        read = await _read(client, desk, alert_id)
        assert (read["followups"], read["stage"]) == (len(ids), stage), who
        assert read["version"] == 1, who  # follow-ups do not change the alert
        assert await _history(client, desk, alert_id) == ids, who
        assert alert_id in await _found(client, desk, stage), who
        for other in {"court_decision", "seizure"} - {stage}:
            assert alert_id not in await _found(client, desk, other), who
    again = await client.get(f"/v1/alerts/{alert_id}", headers=police.reading())
    assert again.headers["etag"] == version


async def test_regulators_get_follow_up_texts_withheld_except_their_own(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    police = await open_desk(registry, client)
    regulator = await open_desk(registry, client, "regulatory", "DE")
    alert_id = await push(client, police, alert_body())
    police_followup = await follow(client, police, alert_id)
    regulator_followup = await follow(
        client,
        regulator,
        alert_id,
        kind="note",
        summary="Licence of the consignee suspended.",
        reference=None,
    )

    as_regulator = {item["id"]: item for item in await listed(client, regulator, alert_id)}
    theirs = as_regulator[police_followup]
    assert theirs["withheld"] == ["summary", "reference"]
    assert "summary" not in theirs
    assert "reference" not in theirs
    assert theirs["kind"] == "seizure"
    assert theirs["arrests"] == 2
    assert theirs["seized"][0]["cas"] == "103-79-7"
    assert theirs["handling"]["meaning"].startswith("Not to be disclosed in judicial")
    own = as_regulator[regulator_followup]
    assert (own["withheld"], own["summary"]) == ([], "Licence of the consignee suspended.")

    as_police = {item["id"]: item for item in await listed(client, police, alert_id)}
    assert as_police[police_followup]["summary"] == SUMMARY
    assert as_police[police_followup]["reference"] == FOLLOWER_REFERENCE
    assert as_police[regulator_followup]["reference"] is None
    # A note is outside the penal chain: the stage is the police seizure's.
    assert (await _read(client, regulator, alert_id))["stage"] == "seizure"


async def test_industry_sees_only_its_own_alerts_follow_ups(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    police = await open_desk(registry, client)
    industry = await open_desk(registry, client, "industry")
    police_alert = await push(client, police, alert_body())
    industry_alert = await push(client, industry, alert_body(persons=[], narrative=None))
    # Listed by name on a follow-up of an alert it cannot see: still nothing.
    await follow(
        client,
        police,
        police_alert,
        distribution={"scope": "agencies", "agencies": [str(industry.agency.id)]},
    )
    on_theirs = await follow(client, police, industry_alert, kind="investigation_opened")

    for path in (f"/v1/alerts/{police_alert}/followups", f"/v1/alerts/{police_alert}"):
        response = await client.get(path, headers=industry.reading())
        assert response.status_code == 404, response.text
    assert await _found(client, industry, "seizure") == set()

    [item] = await listed(client, industry, industry_alert)
    assert (item["id"], item["summary"], item["withheld"]) == (on_theirs, SUMMARY, [])
    read = await _read(client, industry, industry_alert)
    assert (read["followups"], read["stage"]) == (1, "investigation_opened")
    assert await _found(client, industry, "investigation_opened") == {industry_alert}
