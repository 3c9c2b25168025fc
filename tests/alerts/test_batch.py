"""Batches: each item on its own, one bad item does not sink the others, nothing half-written."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from exchange_api.alerts.errors import BodyInvalid, IdempotencyKeyReused
from exchange_api.alerts.schemas import BatchCreate
from exchange_api.auth.caller import Caller
from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.conftest import Exchange


@pytest.fixture
def customs(exchange: Exchange) -> Caller:
    return exchange.agency("customs", "BE")


def test_valid_items_are_stored_and_bad_ones_answered_in_place(
    exchange: Exchange, customs: Caller
) -> None:
    items: list[object] = [
        alert_body(),
        alert_body(route={"origin": "ZZ"}),
        minimal_body(),
        "not an alert",
        minimal_body(distribution={"scope": "agencies", "agencies": [str(uuid.uuid4())]}),
        minimal_body(surprise="field"),
    ]
    outcome = exchange.batch(customs, items)
    results = outcome.result.model_dump(mode="json")["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    stored = [uuid.UUID(r["id"]) for r in results if "id" in r]
    assert [r["index"] for r in results if "id" in r] == [0, 2]
    assert outcome.created == stored
    assert sorted(exchange.search_all(customs)) == sorted(stored)

    errors = {r["index"]: r["error"] for r in results if "error" in r}
    assert set(errors) == {1, 3, 4, 5}
    locs = {}
    for index, problem in errors.items():
        assert problem["status"] == 422
        assert problem["type"] == "urn:exchange-api:problem:validation-error"
        locs[index] = [issue["loc"] for issue in problem["errors"]]
        assert all(loc[:3] == ["body", "alerts", index] for loc in locs[index])
    assert ["body", "alerts", 1, "route", "origin"] in locs[1]
    assert ["body", "alerts", 3] in locs[3]
    assert ["body", "alerts", 4, "distribution", "agencies", 0] in locs[4]
    assert ["body", "alerts", 5, "surprise"] in locs[5]


def test_a_batch_of_only_bad_items_writes_nothing(exchange: Exchange, customs: Caller) -> None:
    outcome = exchange.batch(customs, [minimal_body(detected_on="2999-01-01"), {}])
    assert outcome.created == []
    assert exchange.search_all(customs) == []


def test_a_batch_holds_at_most_500_alerts() -> None:
    assert len(BatchCreate.model_validate({"alerts": [{}] * 500}).alerts) == 500
    with pytest.raises(ValidationError) as raised:
        BatchCreate.model_validate({"alerts": [{}] * 501})
    assert raised.value.errors()[0]["loc"] == ("alerts",)
    with pytest.raises(ValidationError):
        BatchCreate.model_validate({"alerts": []})


def test_a_batch_sent_again_with_its_key_stores_nothing_and_gets_the_first_answer(
    exchange: Exchange, customs: Caller
) -> None:
    items = [minimal_body(reference=f"NL-2026-{n:05d}") for n in range(3)] + [{}]
    first = exchange.batch(customs, items, key="push-file-0001-batch-0")
    again = exchange.batch(customs, items, key="push-file-0001-batch-0")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.result == first.result
    assert again.created == first.created
    assert sorted(exchange.search_all(customs)) == sorted(first.created)


def test_a_batch_key_reused_with_another_batch_is_a_conflict(
    exchange: Exchange, customs: Caller
) -> None:
    first = exchange.batch(customs, [minimal_body()], key="push-0002")
    with pytest.raises(IdempotencyKeyReused):
        exchange.batch(customs, [minimal_body(), minimal_body()], key="push-0002")
    assert exchange.search_all(customs) == first.created


def test_a_keyed_batch_that_stored_nothing_is_replayed_too(
    exchange: Exchange, customs: Caller
) -> None:
    first = exchange.batch(customs, [{}, {"incident_type": "theft"}], key="push-0003")
    again = exchange.batch(customs, [{}, {"incident_type": "theft"}], key="push-0003")
    assert first.created == again.created == []
    assert again.replayed
    assert again.result == first.result


def test_a_number_json_cannot_carry_is_refused_before_anything_is_stored(
    exchange: Exchange, customs: Caller
) -> None:
    with pytest.raises(BodyInvalid) as raised:
        exchange.batch(customs, [minimal_body(), {"quantity": float("nan")}], key="push-0004")
    assert raised.value.extra["errors"] == [
        {"loc": ["body"], "msg": "holds a number JSON cannot carry"}
    ]
    assert exchange.search_all(customs) == []
