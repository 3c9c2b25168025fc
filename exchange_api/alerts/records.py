"""How an alert is laid out at rest, and read back: plain routing facts, sealed groups, index rows.

Pure conversions between the API models (:mod:`exchange_api.alerts.schemas`) and the table rows
(:mod:`exchange_api.models.alerts`); no I/O and no key handling (that is
:mod:`exchange_api.alerts.sealing`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final, Protocol

from pydantic import BaseModel, TypeAdapter
from pydantic_core import from_json, to_json

from exchange_api.alerts.schemas import (
    AlertCreate,
    AlertRead,
    AlertReceipt,
    AlertSummary,
    Distribution,
    Document,
    HandlingRead,
    Party,
    Person,
    Route,
    SubstanceLine,
    SubstanceRead,
)
from exchange_api.alerts.tags import Tag
from exchange_api.alerts.visibility import audience_keys
from exchange_api.alerts.vocabulary import (
    FIELD_GROUPS,
    HANDLING_CODE_MEANINGS,
    KILOGRAMS_PER_UNIT,
    LITRES_PER_UNIT,
    FieldGroup,
    Stage,
)
from exchange_api.crypto import normalise_text
from exchange_api.models.agencies import AgencyKind
from exchange_api.models.alerts import Alert
from exchange_api.reference.catalogue import match_substance, substance_key

__all__ = [
    "ROUTING_FIELDS",
    "StoredFacts",
    "audience_rows",
    "content_of",
    "content_of_body",
    "country_rows",
    "decode_groups",
    "default_review_by",
    "encode_groups",
    "handling_json",
    "in_field_order",
    "new_alert_columns",
    "opened_json",
    "plain_columns",
    "read_json",
    "receipt",
    "route_countries",
    "substance_json",
    "substance_reads",
    "substance_rows",
    "summary_json",
    "summary_of",
    "tag_rows",
]

ROUTING_FIELDS: Final = (
    "incident_type",
    "status",
    "detected_on",
    "review_by",
    "substances",
    "route",
    "handling",
    "distribution",
)
"""The top-level fields stored in plain text; the others are the sealed field groups."""

_JSON_FACTS: Final = {"substances", "route", "handling", "distribution"}
"""The routing facts stored as JSON columns."""

_GROUP_ADAPTERS: Final[dict[FieldGroup, TypeAdapter[Any]]] = {
    "parties": TypeAdapter(list[Party]),
    "documents": TypeAdapter(list[Document]),
    "persons": TypeAdapter(list[Person]),
    "narrative": TypeAdapter(str | None),
    "reference": TypeAdapter(str | None),
    "contact": TypeAdapter(str | None),
}


def default_review_by(detected_on: date, years: int) -> date:
    """``detected_on`` plus ``years`` (29 February falls back to 28 February)."""
    try:
        return detected_on.replace(year=detected_on.year + years)
    except ValueError:
        return detected_on.replace(year=detected_on.year + years, day=28)


def encode_groups(
    body: AlertCreate, groups: Sequence[FieldGroup] = FIELD_GROUPS
) -> dict[FieldGroup, bytes]:
    """The plaintext (JSON) of each of ``groups`` of ``body``, ready to seal."""
    included: set[str] = set(groups)
    return _group_plaintexts(body.model_dump(mode="json", include=included), groups)


def decode_groups(plaintexts: Mapping[FieldGroup, bytes]) -> dict[FieldGroup, Any]:
    """Opened group plaintexts back to API values (lists of models, or text)."""
    return {group: _GROUP_ADAPTERS[group].validate_json(raw) for group, raw in plaintexts.items()}


def plain_columns(body: AlertCreate, review_by: date) -> dict[str, Any]:
    """The routing facts of ``body`` as ``alerts`` columns."""
    return _plain_columns(body, body.model_dump(mode="json", include=_JSON_FACTS), review_by)


def new_alert_columns(
    body: AlertCreate, review_by: date
) -> tuple[dict[str, Any], dict[FieldGroup, bytes]]:
    """:func:`plain_columns` and :func:`encode_groups` of a new alert, from one serialisation of
    ``body`` (the hot path of a batch)."""
    dumped = body.model_dump(mode="json")
    return _plain_columns(body, dumped, review_by), _group_plaintexts(dumped, FIELD_GROUPS)


def _plain_columns(body: AlertCreate, dumped: Mapping[str, Any], review_by: date) -> dict[str, Any]:
    # ``dumped``: the JSON form of ``body`` (model_dump(mode="json")), with at least _JSON_FACTS.
    return {
        "incident_type": body.incident_type,
        "status": body.status,
        "detected_on": body.detected_on,
        "review_by": review_by,
        "distribution_scope": body.distribution.scope,
        "substances": dumped["substances"],
        "route": dumped["route"],
        "handling": dumped["handling"],
        "distribution": dumped["distribution"],
    }


def _group_plaintexts(
    dumped: Mapping[str, Any], groups: Sequence[FieldGroup]
) -> dict[FieldGroup, bytes]:
    # The same bytes as each group's adapter's dump_json, which decode_groups reads back.
    return {group: to_json(dumped[group]) for group in groups}


def substance_rows(alert_id: uuid.UUID, body: AlertCreate) -> list[dict[str, Any]]:
    """One row per distinct substance key of ``body``: the first name sent for it (normalised),
    and its lines' quantities added up as kilograms and as litres (``pcs`` is not summed)."""
    rows: dict[str, dict[str, Any]] = {}
    for line in body.substances:
        key = substance_key(line.cas, line.name)
        row = rows.setdefault(
            key,
            {
                "substance_key": key,
                "alert_id": alert_id,
                "name": None,
                "quantity_kg": None,
                "quantity_l": None,
            },
        )
        if row["name"] is None and line.name is not None:
            row["name"] = normalise_text(line.name)
        if line.quantity is None or line.unit is None:
            continue
        for column, factors in (
            ("quantity_kg", KILOGRAMS_PER_UNIT),
            ("quantity_l", LITRES_PER_UNIT),
        ):
            if line.unit in factors:
                row[column] = (row[column] or 0.0) + line.quantity * factors[line.unit]
    return list(rows.values())


def route_countries(route: Mapping[str, Any]) -> list[str]:
    """The distinct countries of a route (as stored or sent), in route order."""
    return _distinct_countries(
        route.get("origin"), route.get("transit", ()), route.get("destination")
    )


def _distinct_countries(
    origin: str | None, transit: Sequence[str], destination: str | None
) -> list[str]:
    legs = (origin, *transit, destination)
    return list(dict.fromkeys(country for country in legs if country is not None))


def country_rows(alert_id: uuid.UUID, body: AlertCreate) -> list[dict[str, Any]]:
    """One row per distinct country of the route, flagging the legs it is on."""
    route = body.route
    return [
        {
            "country": country,
            "alert_id": alert_id,
            "is_origin": country == route.origin,
            "is_transit": country in route.transit,
            "is_destination": country == route.destination,
        }
        for country in _distinct_countries(route.origin, route.transit, route.destination)
    ]


def audience_rows(alert_id: uuid.UUID, distribution: Distribution) -> list[dict[str, Any]]:
    keys = audience_keys(kinds=distribution.kinds, agencies=distribution.agencies)
    return [{"alert_id": alert_id, "audience": key} for key in keys]


def tag_rows(alert_id: uuid.UUID, tags: Sequence[Tag]) -> list[dict[str, Any]]:
    return [{"field": t.field, "tag": t.tag, "alert_id": alert_id} for t in tags]


def substance_reads(lines: Sequence[Mapping[str, Any]]) -> list[SubstanceRead]:
    """Substance lines as stored, with what the catalogue says of each (:func:`_substance_facts`).

    ``lines`` were validated before they were stored, so they are not validated again."""
    return [SubstanceRead.model_construct(**_substance_facts(line)) for line in lines]


def _substance_facts(line: Mapping[str, Any]) -> dict[str, Any]:
    """A substance line as stored, with what the catalogue says of it.

    ``name`` is the name sent; a line sent by CAS number alone reads with the catalogue's name,
    as every line did before names could be sent (readers written against that keep working)."""
    listed = match_substance(line.get("cas"), line.get("name"))
    sent_name = line.get("name")
    return {
        **line,
        "name": sent_name if sent_name is not None or listed is None else listed.name,
        "scheduled": listed is not None and listed.scheduled,
        "catalogue_cas": listed.cas if listed is not None else None,
        "catalogue_name": listed.name if listed is not None else None,
    }


def _handling_facts(handling: Mapping[str, Any]) -> dict[str, Any]:
    return {**handling, "meaning": HANDLING_CODE_MEANINGS[str(handling["code"])]}


_TYPED_IN_DISTRIBUTION: Final[dict[str, Callable[[str], object]]] = {
    "kinds": AgencyKind,
    "agencies": uuid.UUID,
}
"""Distribution lists that JSON holds as text and the model as enum members or UUIDs (which is
what it serialises)."""


def _distribution_read(distribution: Mapping[str, Any]) -> Distribution:
    values: dict[str, Any] = {
        key: [_TYPED_IN_DISTRIBUTION[key](item) for item in value]
        if key in _TYPED_IN_DISTRIBUTION
        else value
        for key, value in distribution.items()
    }
    return Distribution.model_construct(**values)


class StoredFacts(Protocol):
    """The routing facts of a stored alert: an :class:`Alert`, or a row of its columns."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def version(self) -> int: ...
    @property
    def reporting_agency_id(self) -> uuid.UUID: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def incident_type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detected_on(self) -> date: ...
    @property
    def review_by(self) -> date: ...
    @property
    def substances(self) -> list[dict[str, Any]]: ...
    @property
    def route(self) -> dict[str, Any]: ...
    @property
    def handling(self) -> dict[str, Any]: ...
    @property
    def distribution(self) -> dict[str, Any]: ...


def in_field_order(model: type[BaseModel]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function laying a stored mapping out as ``model`` serialises it: its fields in their
    order, a missing one at its default, anything else left out (what ``model_construct`` keeps
    of a mapping). Stored JSON is already in this form when it was written by this release;
    older rows may lack a field added since."""
    fields = [(name, info) for name, info in model.model_fields.items()]

    def laid_out(values: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: values[name] if name in values else info.get_default(call_default_factory=True)
            for name, info in fields
        }

    return laid_out


_SUBSTANCE_READ: Final = in_field_order(SubstanceRead)
_ROUTE: Final = in_field_order(Route)
_HANDLING_READ: Final = in_field_order(HandlingRead)
_DISTRIBUTION: Final = in_field_order(Distribution)


def substance_json(line: Mapping[str, Any]) -> dict[str, Any]:
    """A stored substance line as :class:`SubstanceRead` serialises it, in plain values."""
    return _SUBSTANCE_READ(_substance_facts(line))


def handling_json(handling: Mapping[str, Any]) -> dict[str, Any]:
    """Stored handling as :class:`HandlingRead` serialises it, in plain values."""
    return _HANDLING_READ(_handling_facts(handling))


def summary_json(row: StoredFacts) -> dict[str, Any]:
    """The routing facts of a stored alert as :class:`AlertSummary` serialises them, in plain
    values: :func:`pydantic_core.to_json` writes the very bytes ``model_dump_json`` of the model
    would (``tests/alerts/test_summaries.py`` holds them to it).

    Built without models: their input validators ran (and normalised CAS numbers, countries,
    LOCODEs) when the alert was stored; running them again for every alert of every page was a
    quarter of a search's CPU, and constructing the models without them still a fifth
    (``python -m bench --only search_route --profile``)."""
    return {
        "id": row.id,
        "version": row.version,
        "reporting_agency": row.reporting_agency_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "incident_type": row.incident_type,
        "status": row.status,
        "detected_on": row.detected_on,
        "review_by": row.review_by,
        "substances": [substance_json(line) for line in row.substances],
        "route": _ROUTE(row.route),
        "handling": handling_json(row.handling),
        "distribution": _DISTRIBUTION(row.distribution),
    }


def summary_of(row: StoredFacts) -> AlertSummary:
    """:func:`summary_json` as a model (an event's alert), its nested parts built as models."""
    facts = summary_json(row)
    return AlertSummary.model_construct(
        **{
            **facts,
            "substances": [SubstanceRead.model_construct(**line) for line in facts["substances"]],
            "route": Route.model_construct(**facts["route"]),
            "handling": HandlingRead.model_construct(**facts["handling"]),
            "distribution": _distribution_read(facts["distribution"]),
        }
    )


_ITEM_LAYOUTS: Final[dict[FieldGroup, Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    "parties": in_field_order(Party),
    "documents": in_field_order(Document),
    "persons": in_field_order(Person),
}
_READ_GROUPS: Final = tuple(name for name in AlertRead.model_fields if name in FIELD_GROUPS)
"""The field groups in :class:`AlertRead`'s field order."""


def opened_json(plaintexts: Mapping[FieldGroup, bytes]) -> dict[FieldGroup, Any]:
    """Opened group plaintexts as plain values, laid out as :class:`AlertRead` serialises them
    (the items of a list in their model's field order, a field added since at its default):
    for an answer written without models, as :func:`summary_json` does. The plaintexts were
    written from validated input and are authenticated by their seal."""
    opened: dict[FieldGroup, Any] = {}
    for group, raw in plaintexts.items():
        value = from_json(raw)
        layout = _ITEM_LAYOUTS.get(group)
        opened[group] = value if layout is None or value is None else [layout(v) for v in value]
    return opened


def read_json(
    row: StoredFacts,
    opened: Mapping[FieldGroup, Any],
    withheld: Sequence[FieldGroup],
    *,
    followups: int,
    stage: Stage | None,
) -> dict[str, Any]:
    """The alert as a caller sees it, as :class:`AlertRead` serialises it in plain values: only
    the ``opened`` groups (:func:`opened_json`) are there; withheld ones are absent. ``followups``
    and ``stage`` count only the follow-ups the caller may see."""
    return {
        **summary_json(row),
        **{group: opened[group] for group in _READ_GROUPS if group in opened},
        "withheld": list(withheld),
        "followups": followups,
        "stage": stage,
    }


def receipt(
    alert_id: uuid.UUID,
    version: int,
    created_at: datetime,
    updated_at: datetime,
    review_by: date,
    substances: Sequence[SubstanceLine],
) -> AlertReceipt:
    """The answer to a create or change of an alert."""
    return AlertReceipt(
        id=alert_id,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
        review_by=review_by,
        substances=substance_reads([line.model_dump() for line in substances]),
    )


def content_of_body(body: AlertCreate, review_by: date) -> dict[str, Any]:
    """``body`` in the form of :func:`content_of`, with its review date resolved."""
    return {**body.model_dump(mode="json"), "review_by": review_by.isoformat()}


def content_of(row: Alert, opened: Mapping[FieldGroup, Any]) -> dict[str, Any]:
    """The whole alert as its reporting agency would send it (the base of a merge patch)."""
    content: dict[str, Any] = {
        "incident_type": row.incident_type,
        "status": row.status,
        "detected_on": row.detected_on.isoformat(),
        "review_by": row.review_by.isoformat(),
        "substances": row.substances,
        "route": row.route,
        "handling": row.handling,
        "distribution": row.distribution,
    }
    for group, value in opened.items():
        adapter = _GROUP_ADAPTERS[group]
        content[group] = adapter.dump_python(value, mode="json")
    return content
