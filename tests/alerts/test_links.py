"""Links: alerts that share a company, a document or a person, and values too common to link."""

from __future__ import annotations

import pytest

from exchange_api.auth.caller import Caller
from tests.alerts.builders import CONTAINER, EXPORTER_ID, PERSON_DOB, PERSON_NAME, minimal_body
from tests.alerts.conftest import Exchange


@pytest.fixture
def police(exchange: Exchange) -> Caller:
    return exchange.agency("law_enforcement")


def _person(name: str, date_of_birth: str | None) -> dict[str, object]:
    return {"category": "suspect", "name": name, "date_of_birth": date_of_birth}


def test_links_say_what_each_alert_shares(exchange: Exchange, police: Caller) -> None:
    def create(**groups: object) -> object:
        return exchange.create(police, minimal_body(**groups)).id

    subject = create(
        parties=[{"role": "exporter", "name": "Alpha Chem", "identifier": EXPORTER_ID}],
        documents=[{"kind": "container", "number": CONTAINER}],
        persons=[_person(PERSON_NAME, PERSON_DOB)],
    )
    same_container = create(documents=[{"kind": "container", "number": CONTAINER}])
    same_company = create(
        parties=[{"role": "broker", "name": "Renamed Ltd", "identifier": "9131-0000-ma1f-l0xx"}]
    )
    same_person = create(persons=[_person(PERSON_NAME.upper(), PERSON_DOB)])
    create(persons=[_person(PERSON_NAME, "1981-01-01")])  # a namesake, born another day
    create(persons=[_person("Someone Else", PERSON_DOB)])

    view = exchange.links(police, subject)
    shared = {item.id: [(s.field, s.value) for s in item.shared] for item in view.links.items}
    assert shared == {
        same_container: [("document.number", CONTAINER)],
        same_company: [("party.identifier", EXPORTER_ID)],
        same_person: [("person.name_dob", f"{PERSON_NAME}, born {PERSON_DOB}")],
    }
    assert [item.id for item in view.links.items] == sorted(shared, reverse=True)
    assert set(view.fields) == {"parties", "documents", "persons"}


def test_a_person_without_a_date_of_birth_links_nothing(exchange: Exchange, police: Caller) -> None:
    first = exchange.create(police, minimal_body(persons=[_person(PERSON_NAME, None)])).id
    exchange.create(police, minimal_body(persons=[_person(PERSON_NAME, None)]))
    view = exchange.links(police, first)
    assert (view.links.items, view.links.common, view.fields) == ([], [], ())


def test_a_value_held_by_more_alerts_than_the_threshold_is_common(
    exchange: Exchange, police: Caller
) -> None:
    exchange.settings = exchange.settings.model_copy(update={"links_common_threshold": 3})
    forwarder = {"role": "freight_forwarder", "name": "Global Forwarding Ltd"}
    subject = exchange.create(
        police,
        minimal_body(parties=[forwarder], documents=[{"kind": "container", "number": CONTAINER}]),
    ).id
    partner = exchange.create(
        police,
        minimal_body(parties=[forwarder], documents=[{"kind": "container", "number": CONTAINER}]),
    ).id
    view = exchange.links(police, subject)
    assert [(c.field, c.value) for c in view.links.common] == []  # 2 holders: still links

    for _ in range(2):
        exchange.create(police, minimal_body(parties=[forwarder]))
    view = exchange.links(police, subject)  # 4 holders > 3: common
    assert [(c.field, c.value, c.more_than) for c in view.links.common] == [
        ("party.name", "Global Forwarding Ltd", 3)
    ]
    assert [(i.id, [s.field for s in i.shared]) for i in view.links.items] == [
        (partner, ["document.number"])
    ]
