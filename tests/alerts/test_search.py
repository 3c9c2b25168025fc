"""Search: every filter of docs/contract.md §3 ("Search"), blind-index matching, and keyset
pages that stay stable while alerts keep arriving."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from exchange_api.auth.caller import Caller
from exchange_api.errors import BadRequest
from exchange_api.kit.dependencies import PurposeRequired
from exchange_api.kit.pagination import InvalidCursor
from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.conftest import Exchange


@pytest.fixture
def police(exchange: Exchange) -> Caller:
    return exchange.agency("law_enforcement")


def _create(exchange: Exchange, caller: Caller, **overrides: Any) -> uuid.UUID:
    return exchange.create(caller, alert_body(**overrides)).id


def test_each_filter_narrows_the_search(exchange: Exchange, police: Caller) -> None:
    customs = exchange.agency("customs", "BE")
    example = _create(exchange, police)
    seizure = _create(
        exchange,
        customs,
        incident_type="seizure",
        status="backtracking",
        detected_on="2025-03-02",
        substances=[{"cas": "4433-77-6"}, {"cas": "108-24-7", "quantity": 5, "unit": "t"}],
        route={"origin": "IN", "transit": ["AE"], "destination": "MX"},
        parties=[{"role": "broker", "name": "Golden Route Logistics FZE", "identifier": "AE-77"}],
        documents=[{"kind": "air_waybill", "number": "176-12345675"}],
    )
    expectations: list[tuple[dict[str, Any], set[uuid.UUID]]] = [
        ({}, {example, seizure}),
        ({"substance": ["4433-77-6"]}, {seizure}),
        ({"substance": ["103-79-7", "108-24-7"]}, {example, seizure}),
        ({"substance": ["50-00-0"]}, set()),
        ({"origin": "CN"}, {example}),
        ({"origin": "NL"}, set()),
        ({"transit": "AE"}, {seizure}),
        ({"destination": "MX"}, {seizure}),
        ({"country": "TR"}, {example}),
        ({"country": "IN"}, {seizure}),
        ({"country": "NL"}, {example}),
        ({"incident_type": ["seizure"]}, {seizure}),
        ({"incident_type": ["seizure", "stopped_shipment"]}, {example, seizure}),
        ({"status": ["open"]}, {example}),
        ({"reporting_agency": customs.agency_id}, {seizure}),
        ({"detected_after": "2026-01-01"}, {example}),
        ({"detected_before": "2025-03-02"}, {seizure}),
        ({"detected_after": "2025-03-02", "detected_before": "2025-03-02"}, {seizure}),
        ({"origin": "CN", "status": ["backtracking"]}, set()),
        ({"origin": "IN", "substance": ["108-24-7"], "country": "AE"}, {seizure}),
    ]
    for query, expected in expectations:
        assert set(exchange.search_all(police, **query)) == expected, query


@pytest.mark.parametrize(
    "party",
    [
        "Example Chemical Trading Co.",
        "EXAMPLE CHEMICAL TRADING CO",
        "  example   chemical-trading co ",
        "\uff25\uff58\uff41\uff4d\uff50\uff4c\uff45 Chemical Trading Co.",  # full-width (NFKC)
        "91310000MA1FL0XX",
        "9131 0000-ma1f l0xx",
    ],
)
def test_party_search_ignores_case_spacing_and_punctuation(
    exchange: Exchange, police: Caller, party: str
) -> None:
    wanted = _create(exchange, police)
    _create(exchange, police, parties=[{"role": "buyer", "name": "Another Company Ltd"}])
    assert exchange.search_all(police, party=party, purpose="case NL-1") == [wanted]


@pytest.mark.parametrize("document", ["CSQU3054383", "csqu 305438-3", "CSQU 305438 3"])
def test_document_search_ignores_case_spacing_and_punctuation(
    exchange: Exchange, police: Caller, document: str
) -> None:
    wanted = _create(exchange, police)
    _create(exchange, police, documents=[{"kind": "container", "number": "MSKU9070323"}])
    assert exchange.search_all(police, document=document, purpose="case NL-1") == [wanted]


def test_party_and_document_filters_combine(exchange: Exchange, police: Caller) -> None:
    both = _create(exchange, police)
    _create(exchange, police, documents=[{"kind": "container", "number": "MSKU9070323"}])
    found = exchange.search_all(
        police, party="example chemical", document="MSKU9070323", purpose="case"
    )
    assert found == []
    found = exchange.search_all(
        police, party="Example Chemical Trading Co", document="CSQU3054383", purpose="case"
    )
    assert found == [both]


@pytest.mark.parametrize("query", [{"party": "Example"}, {"document": "CSQU3054383"}])
def test_party_and_document_search_need_a_purpose(
    exchange: Exchange, police: Caller, query: dict[str, str]
) -> None:
    with pytest.raises(PurposeRequired) as raised:
        exchange.search(police, **query)
    assert raised.value.status == 400
    assert exchange.search(police, substance=["103-79-7"]).ids == []


@pytest.mark.parametrize("query", [{"party": "--- . ---"}, {"document": "ÄÖÜ / -"}])
def test_a_filter_without_letters_or_digits_is_refused(
    exchange: Exchange, police: Caller, query: dict[str, str]
) -> None:
    with pytest.raises(BadRequest) as raised:
        exchange.search(police, purpose="case", **query)
    assert raised.value.status == 400


def test_pages_are_newest_first_and_sized_by_limit(exchange: Exchange, police: Caller) -> None:
    created = [exchange.create(police, minimal_body()).id for _ in range(5)]
    first = exchange.search(police, limit=2)
    assert first.ids == list(reversed(created))[:2]
    assert first.next_cursor is not None
    last = exchange.search(police, limit=5)
    assert last.next_cursor is None  # a page that exactly fills the limit is the last


def test_paging_returns_every_alert_once_while_new_ones_arrive(
    exchange: Exchange, police: Caller
) -> None:
    customs = exchange.agency("customs")
    before = {exchange.create(customs, minimal_body()).id for _ in range(23)}
    seen: list[uuid.UUID] = []
    arrived: set[uuid.UUID] = set()
    cursor = None
    while True:
        page = exchange.search(police, cursor=cursor, limit=4)
        seen.extend(page.ids)
        # Others keep pushing between our pages, before and after the cursor's position.
        arrived |= {exchange.create(customs, minimal_body()).id for _ in range(2)}
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == before
    assert set(exchange.search_all(police)) == before | arrived


@pytest.mark.parametrize("cursor", ["not-a-cursor", "AQ", "AAAAAAAAAAAAAAAAAAAAAAA", "é"])
def test_a_forged_cursor_is_refused(exchange: Exchange, police: Caller, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        exchange.search(police, cursor=cursor)
