"""Changing an alert: merge patch semantics, optimistic concurrency, versions and history."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from exchange_api.alerts.changes import apply_merge_patch, parse_if_match
from exchange_api.alerts.errors import BodyInvalid, StaleVersion, VersionRequired
from exchange_api.auth.caller import Caller
from tests.alerts.builders import CONTAINER, EXPORTER_NAME, alert_body
from tests.alerts.conftest import Exchange


@pytest.fixture
def police(exchange: Exchange) -> Caller:
    return exchange.agency("law_enforcement")


@pytest.fixture
def alert_id(exchange: Exchange, police: Caller) -> uuid.UUID:
    return exchange.create(police, alert_body()).id


def test_merge_patch_follows_rfc_7386() -> None:
    # The examples of RFC 7386 §3 that apply to objects.
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert apply_merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert apply_merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert apply_merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert apply_merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert apply_merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}  # never changed in place


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ('"v3"', {'"v3"'}),
        ('"v2", "v3"', {'"v2"', '"v3"'}),
        ('W/"v3"', set()),  # If-Match compares strongly: weak tags never match
        ("v3", set()),
    ],
)
def test_if_match_names_strong_tags(header: str, tags: set[str]) -> None:
    assert parse_if_match(header) == tags


@pytest.mark.parametrize("header", [None, "", "*", "  "])
def test_a_change_must_name_its_version(header: str | None) -> None:
    with pytest.raises(VersionRequired) as raised:
        parse_if_match(header)
    assert raised.value.status == 428


def test_a_change_is_a_new_version_with_its_history(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    outcome = exchange.update(
        police,
        alert_id,
        {"status": "backtracking", "narrative": "Traced to a second buyer."},
        '"v1"',
    )
    assert outcome.receipt.version == 2
    assert outcome.etag == '"v2"'
    assert outcome.changed == ["status", "narrative"]
    read = exchange.read(police, alert_id).alert
    assert (read.version, read.status, read.narrative) == (
        2,
        "backtracking",
        "Traced to a second buyer.",
    )
    history = exchange.history(police, alert_id).items
    assert [(v.version, v.event) for v in history] == [(1, "created"), (2, "updated")]
    assert history[1].officer == police.subject
    assert history[1].agency == police.agency_id
    changes = {c.field: c for c in history[1].changes}
    assert (changes["status"].old, changes["status"].new) == ("open", "backtracking")
    # A sealed group's change is named, its values never kept in the history.
    assert changes["narrative"].model_dump(exclude_unset=True) == {"field": "narrative"}


def test_a_client_acting_for_no_officer_is_not_named_as_one(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    """Without an officer, a token's subject is its client id: history names no officer then."""
    system = dataclasses.replace(police, subject=police.client_id)
    exchange.update(system, alert_id, {"status": "backtracking"}, '"v1"')
    exchange.update(police, alert_id, {"status": "closed_confirmed"}, '"v2"')
    history = exchange.history(police, alert_id).items
    assert [(v.version, v.officer) for v in history[1:]] == [(2, None), (3, police.subject)]


def test_a_stale_version_is_refused_and_nothing_changes(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    exchange.update(police, alert_id, {"status": "under_investigation"}, '"v1"')
    for stale in ('"v1"', 'W/"v2"', '"v3"'):
        with pytest.raises(StaleVersion) as raised:
            exchange.update(police, alert_id, {"status": "closed_unfounded"}, stale)
        assert raised.value.status == 412
        assert raised.value.headers["ETag"] == '"v2"'
    assert exchange.read(police, alert_id).alert.status == "under_investigation"
    assert (
        exchange.update(
            police, alert_id, {"status": "closed_confirmed"}, '"v1", "v2"'
        ).receipt.version
        == 3
    )


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"route": {"origin": "XX"}}, ["body", "route", "origin"]),
        ({"substances": [{"cas": "103-79-8"}]}, ["body", "substances", 0, "cas"]),
        ({"substances": None}, ["body", "substances"]),
        ({"reporting_agency": str(uuid.uuid4())}, ["body", "reporting_agency"]),
        ({"version": 7}, ["body", "version"]),
        ({"id": str(uuid.uuid4())}, ["body", "id"]),
        (
            {"documents": [{"kind": "container", "number": "CSQU3054384"}]},
            ["body", "documents", 0, "number"],
        ),
        ({"handling": {"code": "H3"}}, ["body", "handling"]),
        (
            {"distribution": {"scope": "agencies", "agencies": [str(uuid.uuid4())]}},
            ["body", "distribution", "agencies", 0],
        ),
    ],
)
def test_a_patch_with_an_invalid_result_is_refused_whole(
    exchange: Exchange,
    police: Caller,
    alert_id: uuid.UUID,
    patch: dict[str, object],
    loc: list[object],
) -> None:
    with pytest.raises(BodyInvalid) as raised:
        exchange.update(police, alert_id, {"status": "backtracking", **patch}, '"v1"')
    assert raised.value.status == 422
    assert loc in [issue["loc"] for issue in raised.value.extra["errors"]]
    read = exchange.read(police, alert_id).alert
    assert (read.version, read.status) == (1, "open")
    assert len(exchange.history(police, alert_id).items) == 1


def test_objects_merge_and_null_removes(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    exchange.update(
        police,
        alert_id,
        {"route": {"transit": None, "transport_mode": "rail"}, "review_by": None},
        '"v1"',
    )
    read = exchange.read(police, alert_id).alert
    assert read.route.transit == []
    assert (read.route.origin, read.route.transport_mode) == ("CN", "rail")
    assert read.review_by.isoformat() == "2029-11-20"  # back to the default period


def test_a_patch_that_changes_nothing_makes_no_version(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    outcome = exchange.update(
        police, alert_id, {"status": "open", "route": {"origin": "CN"}}, '"v1"'
    )
    assert (outcome.receipt.version, outcome.changed) == (1, [])
    assert len(exchange.history(police, alert_id).items) == 1


def test_search_indexes_follow_a_change(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    exchange.update(
        police,
        alert_id,
        {
            "substances": [{"cas": "4433-77-6"}],
            "route": {"origin": "IN", "transit": ["AE"]},
            "parties": [{"role": "buyer", "name": "Nieuwe Handel B.V."}],
            "documents": [{"kind": "container", "number": "MSKU9070323"}],
        },
        '"v1"',
    )

    def found(purpose: str | None = None, **query: object) -> bool:
        return exchange.search_all(police, purpose=purpose, **query) == [alert_id]

    assert found(substance=["4433-77-6"])
    assert not found(substance=["103-79-7"])
    assert found(origin="IN")
    assert found(country="AE")
    assert not found(country="TR")
    assert found(party="NIEUWE HANDEL B.V", purpose="case")
    assert not found(party=EXPORTER_NAME, purpose="case")
    assert found(document="MSKU 907032-3", purpose="case")
    assert not found(document=CONTAINER, purpose="case")


def test_narrowing_the_distribution_hides_the_alert(
    exchange: Exchange, police: Caller, alert_id: uuid.UUID
) -> None:
    customs = exchange.agency("customs")
    other_police = exchange.agency("law_enforcement", "DE")
    assert exchange.search_all(other_police) == [alert_id]
    exchange.update(
        police,
        alert_id,
        {"distribution": {"scope": "agencies", "agencies": [str(customs.agency_id)]}},
        '"v1"',
    )
    assert exchange.search_all(other_police) == []
    assert exchange.search_all(customs) == [alert_id]
