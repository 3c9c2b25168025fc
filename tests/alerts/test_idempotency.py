"""Idempotency-Key: a retry gets the first answer, another body with the key is 409, keys are
per client, and two requests racing with one key create one alert."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
import rfc8785
from sqlalchemy import Engine, text

from exchange_api.alerts import service
from exchange_api.alerts.errors import IdempotencyKeyReused
from exchange_api.alerts.idempotency import request_hash
from exchange_api.alerts.schemas import AlertCreate
from exchange_api.alerts.service import CreateOutcome
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.statistics.emerging import EmergingThresholds
from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.conftest import Exchange

KEPT = timedelta(days=7)


def _create_once(
    exchange: Exchange, caller: Caller, key: str, body: dict[str, object]
) -> CreateOutcome:
    model = AlertCreate.model_validate(body)
    return exchange.run_as(
        caller,
        lambda s, audit: service.create_alert(
            s,
            exchange.keyring,
            caller,
            model,
            audit,
            review_years=3,
            emerging=EmergingThresholds.of(exchange.settings),
            idempotency_key=key,
            idempotency_kept=KEPT,
        ),
    )


def test_equal_bodies_hash_alike_however_written() -> None:
    body = alert_body()
    reordered = dict(reversed(list(body.items())))
    reordered["substances"] = [
        {"cas": "103-79-7", "unit": "kg", "quantity": 1200.0, "concentration_pct": 99}
    ]

    def validated(raw: dict[str, object]) -> object:
        return AlertCreate.model_validate(raw).model_dump(mode="json")

    assert request_hash(validated(body)) == request_hash(validated(reordered))
    assert request_hash(validated(body)) != request_hash(
        validated(alert_body(status="backtracking"))
    )


@pytest.mark.parametrize(
    "body",
    [
        {"alerts": [alert_body(), {"quantity": 61.0, "concentration_pct": 37.5, "n": -0.0}]},
        {"alerts": [{"quantity": 1e-7}, {"quantity": 1e21}, {"quantity": 2.0**60}]},
        {"alerts": [{"\U0001f52c": "a key outside the BMP"}, {"narrative": "🔬 \u2028"}]},
    ],
    ids=["common", "floats-written-otherwise", "astral-key"],
)
def test_every_body_hashes_as_its_rfc8785_form(body: dict[str, object]) -> None:
    # Rows stored before the fast canonicaliser keep matching their retries.
    assert request_hash(body) == hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def test_a_number_hashes_alike_with_or_without_a_fraction_of_zero() -> None:
    assert request_hash({"alerts": [{"quantity": 1200}]}) == request_hash(
        {"alerts": [{"quantity": 1200.0}]}
    )


def test_a_retry_gets_the_first_answer_and_creates_nothing(exchange: Exchange) -> None:
    police = exchange.agency("law_enforcement")
    first = _create_once(exchange, police, "push-0001", alert_body())
    again = _create_once(exchange, police, "push-0001", alert_body())
    assert (first.replayed, again.replayed) == (False, True)
    assert again.receipt == first.receipt
    assert exchange.search_all(police) == [first.receipt.id]


def test_the_same_key_with_another_body_is_a_conflict(exchange: Exchange) -> None:
    police = exchange.agency("law_enforcement")
    first = _create_once(exchange, police, "push-0001", alert_body())
    with pytest.raises(IdempotencyKeyReused) as raised:
        _create_once(exchange, police, "push-0001", alert_body(status="backtracking"))
    assert raised.value.status == 409
    assert exchange.search_all(police) == [first.receipt.id]


def test_keys_belong_to_their_client(exchange: Exchange) -> None:
    police = exchange.agency("law_enforcement")
    customs = exchange.agency("customs")
    mine = _create_once(exchange, police, "push-0001", minimal_body())
    theirs = _create_once(exchange, customs, "push-0001", minimal_body(status="backtracking"))
    assert not theirs.replayed
    assert theirs.receipt.id != mine.receipt.id


def test_two_requests_racing_with_one_key_create_one_alert(
    exchange: Exchange, engine: Engine, backend: str
) -> None:
    """The first request holds its transaction open; the second runs meanwhile. On PostgreSQL
    it is seen waiting on the key's unique index before the first commits; it must then answer
    from the first one's row, its own alert rolled back with its savepoint."""
    police = exchange.agency("law_enforcement")
    model = AlertCreate.model_validate(alert_body())
    second: list[CreateOutcome] = []
    with exchange.factory() as first_session:
        first = service.create_alert(
            first_session,
            exchange.keyring,
            police,
            model,
            AuditRecorder.acting_as(
                exchange.audit_log, first_session, AuditIdentity.of_caller(police)
            ),
            review_years=3,
            emerging=EmergingThresholds.of(exchange.settings),
            idempotency_key="push-0001",
            idempotency_kept=KEPT,
        )
        racer = threading.Thread(
            target=lambda: second.append(_create_once(exchange, police, "push-0001", alert_body()))
        )
        racer.start()
        if backend == "postgresql":
            with engine.connect() as probe:
                waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                while racer.is_alive() and not probe.execute(waiting).scalar():
                    probe.rollback()
        first_session.commit()
    racer.join()
    assert second[0].replayed
    assert second[0].receipt.id == first.receipt.id
    assert exchange.search_all(police) == [first.receipt.id]
