"""Follow-ups and requests produce events, read under the same rules as the records themselves:
a follow-up's event only by those who may see that follow-up, a request's only by its two
agencies — decided when the feed is read."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.alerts.builders import minimal_body
from tests.alerts.http import open_desk, push
from tests.auth_helpers import Registry
from tests.events.test_feed import settle

HANDLING = {"code": "H2", "source_reliability": "B", "information_reliability": "2", "tlp": "amber"}


def _followup(**overrides: object) -> dict[str, object]:
    return {
        "kind": "seizure",
        "occurred_on": dt.date.today().isoformat(),
        "summary": "Seized at the border",
        "handling": HANDLING,
        **overrides,
    }


async def test_followup_and_request_events_reach_only_whom_they_may(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    customs = await open_desk(registry, client, "customs", "BE")
    police = await open_desk(registry, client, "law_enforcement", "NL")
    prosecution = await open_desk(registry, client, "prosecution", "NL")
    alert = await push(client, customs, minimal_body())

    everyone = await client.post(
        f"/v1/alerts/{alert}/followups", json=_followup(), headers=police.headers
    )
    narrowed = await client.post(
        f"/v1/alerts/{alert}/followups",
        json=_followup(
            kind="arrest",
            distribution={"scope": "agencies", "agencies": [str(prosecution.agency.id)]},
        ),
        headers=police.headers,
    )
    request = await client.post(
        f"/v1/alerts/{alert}/requests",
        json={
            "to": str(customs.agency.id),
            "kind": "information",
            "message": "Who declared the consignment?",
            "due_by": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
        },
        headers=police.headers,
    )
    for response in (everyone, narrowed, request):
        assert response.status_code == 201, response.text
    reply = await client.post(
        f"/v1/requests/{request.json()['id']}/reply",
        json={"outcome": "answered", "message": "A broker in Rotterdam."},
        headers=customs.headers,
    )
    assert reply.status_code == 200, reply.text

    def seen(events: list[dict[str, object]]) -> list[tuple[object, object, object]]:
        return [(e["type"], e["followup_id"], e["request_id"]) for e in events]

    created = ("alert.created", None, None)
    shown = ("followup.created", everyone.json()["id"], None)
    hidden = ("followup.created", narrowed.json()["id"], None)
    asked = ("request.created", None, request.json()["id"])
    answered = ("request.answered", None, request.json()["id"])
    # The reporting agency sees every follow-up of its alert, and is the addressee.
    assert seen(await settle(client, customs, 5)) == [created, shown, hidden, asked, answered]
    # The follower sees its own follow-ups, and is the sender.
    assert seen(await settle(client, police, 5)) == [created, shown, hidden, asked, answered]
    # A third agency: the alert and the follow-up meant for it; never the request.
    assert seen(await settle(client, prosecution, 3)) == [created, shown, hidden]
    other = await open_desk(registry, client, "customs", "DE")
    assert seen(await settle(client, other, 2)) == [created, shown]
