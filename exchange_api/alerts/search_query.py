"""The search query: filters to SQL, scoped by the caller, one keyset page newest first.

Keyset pagination over the alert id descending (UUIDv7 ids grow with time): no OFFSET, no count
of all rows. Every filter is an index range on a side table whose primary key starts with the
searched value and ends with the alert id. How the page is found:

- When a filter names one substance or one country, that side table *drives* the query: its
  index range is walked in alert-id order and each alert is checked against the other filters
  and visibility, until the page is full. This reads no more rows than walking all alerts
  newest first would, and far fewer when the value is rare (SQLite plans no better path by
  itself; PostgreSQL would, and reaches the same plan either way).
- Other filters are ``EXISTS`` probes by (value, alert id), or plain column tests.
- Party and document filters (blind-index tags) are one ``IN`` over a union of tag ranges: such
  values are rare, so both databases collect the few matching ids first.

A search's statement is built once per *shape* — which filters are set, the legs of its
countries, the caller an ``industry`` agency or not — and its values, the caller's included,
are bound at execution: building and cache-keying the statement for every request was an
eighth of a search's CPU (``python -m bench --only search_route --profile``). Statistics take
the same conditions with their values carried in (:func:`filter_conditions`).
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from exchange_api.alerts.records import ROUTING_FIELDS
from exchange_api.alerts.stages import furthest_stage_bound, stage_ranks
from exchange_api.alerts.visibility import viewer_params, visible_to_bound
from exchange_api.alerts.vocabulary import Stage
from exchange_api.auth.caller import Caller
from exchange_api.models.agencies import AgencyKind
from exchange_api.models.alerts import Alert, AlertCountry, AlertSubstance, AlertTag

__all__ = ["AlertFilters", "NamedSubstance", "filter_conditions", "search_statement"]

_LEG_FLAGS = {"origin": "is_origin", "transit": "is_transit", "destination": "is_destination"}

# A search lists routing facts, nothing sealed: fetching the sealed columns and the wrapped key
# (kilobytes a row) only to drop them cost more than the search itself. They are read as plain
# columns: loading ORM entities (identity map, instance state) for rows that are only listed was
# a quarter of a search's CPU (python -m bench --only search_substance --profile).
_ROUTING: Final = tuple(
    col(getattr(Alert, name))
    for name in (
        "id",
        "version",
        "reporting_agency_id",
        "created_at",
        "updated_at",
        *ROUTING_FIELDS,
    )
)


@dataclass(frozen=True)
class NamedSubstance:
    """A ``substance_name`` filter: the key its catalogue match (or the name itself) gives, and
    the normalised name, matching the lines sent under that name whatever their key."""

    key: str
    name: str


@dataclass(frozen=True)
class AlertFilters:
    """Search filters, all combined with AND; a tuple of values matches any of them.

    ``substances`` holds substance keys (:func:`exchange_api.reference.catalogue.substance_key`).
    ``countries`` holds (leg, country) pairs, leg ``origin``, ``transit``, ``destination`` or
    ``any``. ``tags`` holds blind-index alternatives per filter: each inner tuple of (field, tag)
    pairs must match at least once (a party filter matches a name or an identifier).
    """

    substances: tuple[str, ...] = ()
    substance_name: NamedSubstance | None = None
    incident_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    countries: tuple[tuple[str, str], ...] = ()
    reporting_agency: uuid.UUID | None = None
    detected_after: date | None = None
    detected_before: date | None = None
    tags: tuple[tuple[tuple[str, str], ...], ...] = ()
    stages: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class _Shape:
    """What the SQL of some filters depends on: which are set, how many countries and tag
    alternatives — never a value. Statements are built once per shape (:func:`_search`), the
    values bound at execution by :func:`_values` under the names the statement gives them."""

    substances: bool
    substance_name: bool
    legs: tuple[str, ...]
    tags: tuple[int, ...]
    incident_types: bool
    statuses: bool
    reporting_agency: bool
    detected_after: bool
    detected_before: bool

    @classmethod
    def of(cls, filters: AlertFilters) -> _Shape:
        return cls(
            substances=bool(filters.substances),
            substance_name=filters.substance_name is not None,
            legs=tuple(leg for leg, _ in filters.countries),
            tags=tuple(len(alternatives) for alternatives in filters.tags),
            incident_types=bool(filters.incident_types),
            statuses=bool(filters.statuses),
            reporting_agency=filters.reporting_agency is not None,
            detected_after=filters.detected_after is not None,
            detected_before=filters.detected_before is not None,
        )


def _values(filters: AlertFilters) -> dict[str, Any]:
    """The values of ``filters`` under the names :func:`_conditions` binds them to."""
    values: dict[str, Any] = {}
    if filters.substances:
        values["substances"] = list(filters.substances)
    if filters.substance_name is not None:
        values["name_key"] = filters.substance_name.key
        values["name"] = filters.substance_name.name
    for index, (_, country) in enumerate(filters.countries):
        values[f"country_{index}"] = country
    for index, alternatives in enumerate(filters.tags):
        for number, (tag_field, tag) in enumerate(alternatives):
            values[f"tag_field_{index}_{number}"] = tag_field
            values[f"tag_{index}_{number}"] = tag
    if filters.incident_types:
        values["incident_types"] = list(filters.incident_types)
    if filters.statuses:
        values["statuses"] = list(filters.statuses)
    for name in ("reporting_agency", "detected_after", "detected_before"):
        if getattr(filters, name) is not None:
            values[name] = getattr(filters, name)
    return values


def _on_leg(table: Any, leg: str, country: Any) -> list[ColumnElement[bool]]:
    conditions = [table.country == country]
    if leg != "any":
        conditions.append(getattr(table, _LEG_FLAGS[leg]).is_(True))
    return conditions


def filter_conditions(filters: AlertFilters) -> list[ColumnElement[bool]]:
    """Every filter as a condition on ``alerts``, its values carried along (statistics narrow
    their counts with these)."""
    return _conditions(_Shape.of(filters), _values(filters))


def _conditions(shape: _Shape, values: dict[str, Any] | None) -> list[ColumnElement[bool]]:
    """The filters of ``shape`` as conditions on ``alerts``, with their ``values`` bound in, or
    (``values`` None) left for the execution to bind (:func:`_values`)."""

    def value(name: str) -> BindParameter[Any]:
        if values is None:
            return bindparam(name, expanding=name in _LISTS)
        return bindparam(name, values[name], expanding=name in _LISTS)

    conditions: list[ColumnElement[bool]] = []
    if shape.substances:
        conditions.append(
            exists().where(
                col(AlertSubstance.alert_id) == col(Alert.id),
                col(AlertSubstance.substance_key).in_(value("substances")),
            )
        )
    if shape.substance_name:
        # Two index probes: by key (primary key) and by name (ix_alert_substances_name).
        conditions.append(
            or_(
                exists().where(
                    col(AlertSubstance.substance_key) == value("name_key"),
                    col(AlertSubstance.alert_id) == col(Alert.id),
                ),
                exists().where(
                    col(AlertSubstance.name) == value("name"),
                    col(AlertSubstance.alert_id) == col(Alert.id),
                ),
            )
        )
    for index, leg in enumerate(shape.legs):
        conditions.append(
            exists().where(
                col(AlertCountry.alert_id) == col(Alert.id),
                *_on_leg(AlertCountry, leg, value(f"country_{index}")),
            )
        )
    for index, count in enumerate(shape.tags):
        tagged = select(col(AlertTag.alert_id)).where(
            or_(
                *(
                    and_(
                        col(AlertTag.field) == value(f"tag_field_{index}_{number}"),
                        col(AlertTag.tag) == value(f"tag_{index}_{number}"),
                    )
                    for number in range(count)
                )
            )
        )
        conditions.append(col(Alert.id).in_(tagged))
    if shape.incident_types:
        conditions.append(col(Alert.incident_type).in_(value("incident_types")))
    if shape.statuses:
        conditions.append(col(Alert.status).in_(value("statuses")))
    if shape.reporting_agency:
        conditions.append(col(Alert.reporting_agency_id) == value("reporting_agency"))
    if shape.detected_after:
        conditions.append(col(Alert.detected_on) >= value("detected_after"))
    if shape.detected_before:
        conditions.append(col(Alert.detected_on) <= value("detected_before"))
    return conditions


_LISTS: Final = frozenset({"substances", "incident_types", "statuses"})
"""The values bound as lists (``IN``)."""


def search_statement(
    caller: Caller, filters: AlertFilters, *, before: uuid.UUID | None, limit: int
) -> tuple[Select[Any], dict[str, Any]]:
    """Up to ``limit`` alerts visible to ``caller`` matching ``filters``, newest first, with
    ids below ``before``: the statement (built once for the shape of the search) and the
    values to execute it with."""
    driver: str | None = None
    values: dict[str, Any] = {"limit": limit, **viewer_params(caller)}
    if len(filters.substances) == 1:
        driver, values["driver"] = "substance", filters.substances[0]
        filters = dataclasses.replace(filters, substances=())
    elif filters.countries:
        (driver, values["driver"]), *others = filters.countries
        filters = dataclasses.replace(filters, countries=tuple(others))
    if before is not None:
        values["before"] = before
    if filters.stages:
        values["stage_ranks"] = stage_ranks(filters.stages)
    values.update(_values(filters))
    industry = caller.agency_kind is AgencyKind.INDUSTRY
    statement = _search(
        _Shape.of(filters), driver, industry, before=before is not None, staged=bool(filters.stages)
    )
    return statement, values


@functools.lru_cache(maxsize=256)
def _search(
    shape: _Shape, driver: str | None, industry: bool, *, before: bool, staged: bool
) -> Select[Any]:
    """The search statement of one shape, its values left to bind. ``driver``: the side table
    walked in alert-id order — ``substance``, or the leg of the first country (module doc)."""
    statement: Select[Any]
    if driver == "substance":
        table: Any = aliased(AlertSubstance)
        statement = select(*_ROUTING).join_from(table, Alert, col(Alert.id) == table.alert_id)
        statement = statement.where(table.substance_key == bindparam("driver"))
    elif driver is not None:
        table = aliased(AlertCountry)
        statement = select(*_ROUTING).join_from(table, Alert, col(Alert.id) == table.alert_id)
        statement = statement.where(*_on_leg(table, driver, bindparam("driver")))
    else:
        table = None
        statement = select(*_ROUTING)
    key = col(Alert.id) if table is None else table.alert_id
    statement = statement.where(visible_to_bound(industry=industry), *_conditions(shape, None))
    if staged:
        furthest = furthest_stage_bound(industry=industry)
        statement = statement.where(furthest.in_(bindparam("stage_ranks", expanding=True)))
    if before:
        statement = statement.where(key < bindparam("before"))
    return statement.order_by(key.desc()).limit(bindparam("limit"))
