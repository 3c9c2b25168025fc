"""Stored alerts read back without running the input validators again answer exactly what full
validation of the stored data answers, byte for byte, for every kind of routing fact."""

from __future__ import annotations

import warnings
from typing import Any

from pydantic_core import to_json
from sqlalchemy import update
from sqlmodel import Session, col

from exchange_api.alerts import records
from exchange_api.alerts.schemas import (
    AlertList,
    AlertRead,
    AlertSummary,
    Document,
    Party,
    Person,
)
from exchange_api.models.alerts import Alert
from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.conftest import Exchange


def _bodies(agency: str) -> list[dict[str, Any]]:
    return [
        alert_body(),
        minimal_body(),
        minimal_body(substances=[{"name": "Methyl alpha-phenylacetoacetate (MAPA)"}]),
        minimal_body(
            substances=[
                {"cas": "103-79-7", "name": "BMK", "quantity": 5, "unit": "t"},
                {"cas": "50-00-0", "quantity": 0.25, "unit": "l", "concentration_pct": 37},
                {"name": "  an unlisted designer precursor "},
            ],
            route={"origin": "cn", "transit": ["el", "UK"], "port_of_discharge": "nlrtm"},
        ),
        alert_body(
            status="backtracking",
            review_by="2030-01-01",
            route={"destination": "MX", "transport_mode": "air"},
            handling={
                "code": "H3",
                "restrictions": "Not for court use without the sender's consent.",
                "source_reliability": "A",
                "information_reliability": "1",
                "tlp": "amber+strict",
            },
            distribution={"scope": "kinds", "kinds": ["customs", "law_enforcement"]},
            documents=[{"kind": "container", "number": "csqu 305438 3"}],
        ),
        minimal_body(distribution={"scope": "agencies", "agencies": [agency]}),
    ]


def _validated(row: Alert, trusted: AlertSummary) -> AlertSummary:
    """The summary by full validation of the stored row (the catalogue's facts taken as given)."""
    return AlertSummary.model_validate(
        {
            "id": row.id,
            "version": row.version,
            "reporting_agency": row.reporting_agency_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "incident_type": row.incident_type,
            "status": row.status,
            "detected_on": row.detected_on,
            "review_by": row.review_by,
            "substances": [
                {
                    **line,
                    "name": read.name,
                    "scheduled": read.scheduled,
                    "catalogue_cas": read.catalogue_cas,
                    "catalogue_name": read.catalogue_name,
                }
                for line, read in zip(row.substances, trusted.substances, strict=True)
            ],
            "route": row.route,
            "handling": {**row.handling, "meaning": trusted.handling.meaning},
            "distribution": row.distribution,
        }
    )


def test_a_page_built_from_stored_facts_equals_the_validated_page(exchange: Exchange) -> None:
    police = exchange.agency("law_enforcement")
    customs = exchange.agency("customs", "BE")
    ids = [exchange.create(police, body).id for body in _bodies(str(customs.agency_id))]
    rows = {alert_id: exchange.run(lambda s, a=alert_id: s.get_one(Alert, a)) for alert_id in ids}

    answer = exchange.search(police, limit=len(ids)).json()
    page = AlertList.model_validate_json(answer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a value of the wrong type would warn when serialised
        validated = AlertList(
            items=[_validated(rows[item.id], item) for item in page.items],
            next_cursor=page.next_cursor,
        )
    assert [item.id for item in page.items] == sorted(ids, reverse=True)
    assert answer == validated.model_dump_json(by_alias=True).encode()
    assert page.model_dump_json(by_alias=True).encode() == answer


def test_facts_stored_before_a_field_existed_read_with_its_default(exchange: Exchange) -> None:
    """Rows written by an earlier release lack the fields added since (a substance line's
    ``name``, a route's ports, ``transport_mode``): they are listed at their defaults, and the
    page is still byte for byte what the declared model writes."""
    police = exchange.agency("law_enforcement")
    body = minimal_body(route={"origin": "CN", "transport_mode": "sea"})
    alert_id = exchange.create(police, body).id

    def strip_later_fields(session: Session) -> None:
        row = session.get_one(Alert, alert_id)
        session.exec(
            update(Alert)
            .where(col(Alert.id) == alert_id)
            .values(
                substances=[{"cas": line["cas"]} for line in row.substances],
                route={"origin": row.route["origin"], "transit": row.route["transit"]},
                distribution={"scope": row.distribution["scope"]},
            )
        )

    exchange.run(strip_later_fields)
    answer = exchange.search(police).json()
    page = AlertList.model_validate_json(answer)
    (item,) = page.items
    assert page.model_dump_json(by_alias=True).encode() == answer
    assert item.route.port_of_loading is None
    assert item.route.transport_mode is None
    assert item.distribution.kinds == []
    assert item.distribution.agencies == []
    assert [line.quantity for line in item.substances] == [None]
    assert item.substances[0].name == item.substances[0].catalogue_name is not None


def test_a_read_built_from_stored_facts_is_what_validation_gives(exchange: Exchange) -> None:
    """A read is written from the stored facts and the opened groups as plain values; validating
    that answer from the wire (every input validator again) and writing the declared model gives
    the same bytes, for a reader that sees every group and one from whom groups are withheld."""
    police = exchange.agency("law_enforcement")
    regulator = exchange.agency("regulatory", "BE")
    customs = exchange.agency("customs", "BE")
    readings = [
        (exchange.create(police, body).id, police) for body in _bodies(str(customs.agency_id))
    ]
    readings.append((exchange.create(police, alert_body()).id, regulator))
    for alert_id, reader in readings:
        view = exchange.read(reader, alert_id)
        answer = view.json()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a value of the wrong type would warn when serialised
            validated = AlertRead.model_validate_json(answer)
            written = validated.model_dump_json(by_alias=True, exclude_unset=True).encode()
        assert written == answer
        assert validated.model_fields_set == set(AlertRead.model_fields) - set(validated.withheld)
    # The regulator's reading: trade documents shown, the rest withheld and absent.
    assert validated.withheld == ["persons", "narrative", "reference", "contact"]
    assert validated.parties


def test_group_items_stored_before_a_field_existed_read_with_its_default() -> None:
    """A party, document or person sealed by an earlier release lacks the fields added since:
    it is laid out at their defaults, in the field order the declared model writes."""
    stored = {
        "parties": b'[{"role": "consignee", "name": "Acme Trading"}]',
        "documents": b'[{"kind": "container", "number": "CSQU3054383"}]',
        "persons": b'[{"category": "suspect", "name": "J. Doe"}]',
        "narrative": b'"Forty drums declared as solvent."',
        "contact": b"null",
    }
    opened = records.opened_json(stored)  # type: ignore[arg-type]
    models = {"parties": Party, "documents": Document, "persons": Person}
    for group, model in models.items():
        [item] = opened[group]
        expected = model.model_validate_json(stored[group][1:-1]).model_dump_json()
        assert to_json(item).decode() == expected
        assert list(item) == list(model.model_fields)
    assert opened["narrative"] == "Forty drums declared as solvent."
    assert opened["contact"] is None
