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
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from exchange_api.alerts.stages import furthest_stage, stage_ranks
from exchange_api.alerts.visibility import visible_to
from exchange_api.alerts.vocabulary import Stage
from exchange_api.auth.caller import Caller
from exchange_api.models.alerts import Alert, AlertCountry, AlertSubstance, AlertTag

__all__ = ["AlertFilters", "NamedSubstance", "filter_conditions", "search_statement"]

_LEG_FLAGS = {"origin": "is_origin", "transit": "is_transit", "destination": "is_destination"}


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


def _one_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    expression: ColumnElement[bool] = (
        col(column) == values[0] if len(values) == 1 else col(column).in_(values)
    )
    return expression


def _on_leg(table: Any, leg: str, country: str) -> list[ColumnElement[bool]]:
    conditions = [table.country == country]
    if leg != "any":
        conditions.append(getattr(table, _LEG_FLAGS[leg]).is_(True))
    return conditions


def filter_conditions(filters: AlertFilters) -> list[ColumnElement[bool]]:
    """Every filter as a condition on ``alerts`` (statistics narrow their counts with these)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.substances:
        conditions.append(
            exists().where(
                col(AlertSubstance.alert_id) == col(Alert.id),
                _one_of(AlertSubstance.substance_key, filters.substances),
            )
        )
    if filters.substance_name is not None:
        # Two index probes: by key (primary key) and by name (ix_alert_substances_name).
        named = filters.substance_name
        conditions.append(
            or_(
                exists().where(
                    col(AlertSubstance.substance_key) == named.key,
                    col(AlertSubstance.alert_id) == col(Alert.id),
                ),
                exists().where(
                    col(AlertSubstance.name) == named.name,
                    col(AlertSubstance.alert_id) == col(Alert.id),
                ),
            )
        )
    for leg, country in filters.countries:
        conditions.append(
            exists().where(
                col(AlertCountry.alert_id) == col(Alert.id), *_on_leg(AlertCountry, leg, country)
            )
        )
    for alternatives in filters.tags:
        tagged = select(col(AlertTag.alert_id)).where(
            or_(
                *(
                    and_(col(AlertTag.field) == tag_field, col(AlertTag.tag) == tag)
                    for tag_field, tag in alternatives
                )
            )
        )
        conditions.append(col(Alert.id).in_(tagged))
    if filters.incident_types:
        conditions.append(_one_of(Alert.incident_type, filters.incident_types))
    if filters.statuses:
        conditions.append(_one_of(Alert.status, filters.statuses))
    if filters.reporting_agency is not None:
        conditions.append(col(Alert.reporting_agency_id) == filters.reporting_agency)
    if filters.detected_after is not None:
        conditions.append(col(Alert.detected_on) >= filters.detected_after)
    if filters.detected_before is not None:
        conditions.append(col(Alert.detected_on) <= filters.detected_before)
    return conditions


def search_statement(
    caller: Caller, filters: AlertFilters, *, before: uuid.UUID | None, limit: int
) -> SelectOfScalar[Alert]:
    """Up to ``limit`` alerts visible to ``caller`` matching ``filters``, newest first, with
    ids below ``before``."""
    statement: SelectOfScalar[Alert]
    if len(filters.substances) == 1:
        driver: Any = aliased(AlertSubstance)
        statement = select(Alert).join_from(driver, Alert, col(Alert.id) == driver.alert_id)
        statement = statement.where(driver.substance_key == filters.substances[0])
        filters = dataclasses.replace(filters, substances=())
    elif filters.countries:
        (leg, country), *others = filters.countries
        driver = aliased(AlertCountry)
        statement = select(Alert).join_from(driver, Alert, col(Alert.id) == driver.alert_id)
        statement = statement.where(*_on_leg(driver, leg, country))
        filters = dataclasses.replace(filters, countries=tuple(others))
    else:
        driver = None
        statement = select(Alert)
    key = col(Alert.id) if driver is None else driver.alert_id
    statement = statement.where(visible_to(caller), *filter_conditions(filters))
    if filters.stages:
        statement = statement.where(furthest_stage(caller).in_(stage_ranks(filters.stages)))
    if before is not None:
        statement = statement.where(key < before)
    return statement.order_by(key.desc()).limit(limit)
