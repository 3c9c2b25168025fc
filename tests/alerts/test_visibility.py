"""docs/contract.md §3 ("Who sees what") as each agency kind meets it: which alerts exist for
it, and which parts of them.

An alert a caller may not see is a 404 for every way of reaching it (read, change, history,
links) and never appears in a search or a link; regulators get no persons, narrative, reference
or contact; industry sees its own alerts only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from exchange_api.alerts.errors import AlertNotFound, NotAlertOwner
from exchange_api.auth.caller import Caller
from tests.alerts.builders import CONTAINER, alert_body
from tests.alerts.conftest import Exchange

ALL_GROUPS = {"parties", "documents", "persons", "narrative", "reference", "contact"}


@dataclass
class World:
    callers: dict[str, Caller]
    alerts: dict[str, uuid.UUID]


# Who sees what. Every alert carries the same container, so links could reach all of them.
VISIBLE: dict[str, set[str]] = {
    "police_nl": {"network", "to_customs", "to_police_de", "from_industry", "from_regulator"},
    "police_de": {"network", "to_police_de", "from_industry", "from_regulator"},
    "customs": {"network", "to_customs", "from_industry"},
    "prosecution": {"network", "from_industry"},
    "regulator": {"network", "from_industry", "from_regulator"},
    "industry_a": {"from_industry"},
    "industry_b": set(),
}


@pytest.fixture
def world(exchange: Exchange) -> World:
    callers = {
        "police_nl": exchange.agency("law_enforcement", "NL"),
        "police_de": exchange.agency("law_enforcement", "DE"),
        "customs": exchange.agency("customs", "BE"),
        "prosecution": exchange.agency("prosecution", "NL"),
        "regulator": exchange.agency("regulatory", "NL"),
        "industry_a": exchange.agency("industry", "DE"),
        "industry_b": exchange.agency("industry", "NL"),
    }
    police = callers["police_nl"]
    alerts = {
        "network": exchange.create(police, alert_body()).id,
        "to_customs": exchange.create(
            police, alert_body(distribution={"scope": "kinds", "kinds": ["customs"]})
        ).id,
        "to_police_de": exchange.create(
            police,
            alert_body(
                distribution={
                    "scope": "agencies",
                    "agencies": [str(callers["police_de"].agency_id)],
                }
            ),
        ).id,
        "from_industry": exchange.create(callers["industry_a"], alert_body()).id,
        "from_regulator": exchange.create(
            callers["regulator"],
            alert_body(distribution={"scope": "kinds", "kinds": ["law_enforcement"]}),
        ).id,
    }
    return World(callers, alerts)


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_reads_and_histories_reach_exactly_the_visible_alerts(
    exchange: Exchange, world: World, who: str
) -> None:
    caller = world.callers[who]
    for name, alert_id in world.alerts.items():
        if name in VISIBLE[who]:
            assert exchange.read(caller, alert_id).alert.id == alert_id
            assert exchange.history(caller, alert_id).items[0].version == 1
        else:
            for attempt in (exchange.read, exchange.history, exchange.links):
                with pytest.raises(AlertNotFound) as raised:
                    attempt(caller, alert_id)
                assert raised.value.alert_id == alert_id
                assert raised.value.status == 404


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_searches_list_exactly_the_visible_alerts(
    exchange: Exchange, world: World, who: str
) -> None:
    caller = world.callers[who]
    expected = {world.alerts[name] for name in VISIBLE[who]}
    assert set(exchange.search_all(caller)) == expected
    assert set(exchange.search_all(caller, substance=["103-79-7"], limit=2)) == expected
    found = exchange.search_all(caller, document=CONTAINER, country="TR", purpose="case 1")
    assert set(found) == expected


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_links_reach_only_visible_alerts(exchange: Exchange, world: World, who: str) -> None:
    caller = world.callers[who]
    for name in VISIBLE[who]:
        view = exchange.links(caller, world.alerts[name])
        expected = {world.alerts[other] for other in VISIBLE[who] if other != name}
        assert set(view.linked_ids) == expected
        assert view.links.common == []


@pytest.mark.parametrize(
    ("who", "withheld"),
    [
        ("police_nl", set()),
        ("customs", set()),
        ("prosecution", set()),
        ("regulator", {"persons", "narrative", "reference", "contact"}),
    ],
)
def test_field_groups_of_another_agencys_alert_follow_the_callers_kind(
    exchange: Exchange, world: World, who: str, withheld: set[str]
) -> None:
    view = exchange.read(world.callers[who], world.alerts["from_industry"])
    assert set(view.alert.withheld) == withheld
    assert set(view.fields) == ALL_GROUPS - withheld
    shown = view.alert.model_dump(exclude_unset=True)
    assert withheld.isdisjoint(shown)
    assert ALL_GROUPS - withheld <= set(shown)


@pytest.mark.parametrize("who", ["regulator", "industry_a"])
def test_the_reporting_agency_sees_all_of_its_own_alert(
    exchange: Exchange, world: World, who: str
) -> None:
    own = {"regulator": "from_regulator", "industry_a": "from_industry"}[who]
    view = exchange.read(world.callers[who], world.alerts[own])
    assert view.alert.withheld == []
    assert set(view.fields) == ALL_GROUPS
    assert view.alert.narrative is not None


def test_links_show_values_only_of_groups_the_caller_may_see(
    exchange: Exchange, world: World
) -> None:
    regulator = exchange.links(world.callers["regulator"], world.alerts["network"])
    police = exchange.links(world.callers["police_nl"], world.alerts["network"])
    for view, person_value_shown in ((regulator, False), (police, True)):
        shared = {(s.field, s.value is not None) for item in view.links.items for s in item.shared}
        assert ("document.number", True) in shared
        assert ("person.name_dob", person_value_shown) in shared
    assert "persons" not in regulator.fields
    assert "persons" in police.fields


def test_only_the_reporting_agency_may_change_an_alert(exchange: Exchange, world: World) -> None:
    alert_id = world.alerts["network"]
    with pytest.raises(NotAlertOwner):
        exchange.update(world.callers["customs"], alert_id, {"status": "closed_unfounded"}, '"v1"')
    with pytest.raises(AlertNotFound):
        exchange.update(
            world.callers["industry_b"], alert_id, {"status": "closed_unfounded"}, '"v1"'
        )
    assert exchange.read(world.callers["customs"], alert_id).alert.status == "open"


def test_invisible_alerts_never_count_towards_common(exchange: Exchange, world: World) -> None:
    """With a threshold of 3, five alerts share the container, but customs sees only three:
    for customs the container links; for the Dutch police, who see five, it is common."""
    exchange.settings = exchange.settings.model_copy(update={"links_common_threshold": 3})
    customs = exchange.links(world.callers["customs"], world.alerts["network"])
    assert len(customs.linked_ids) == 2
    assert customs.links.common == []
    police = exchange.links(world.callers["police_nl"], world.alerts["network"])
    assert {(c.field, c.more_than) for c in police.links.common} >= {("document.number", 3)}
    assert all(s.field != "document.number" for item in police.links.items for s in item.shared)
