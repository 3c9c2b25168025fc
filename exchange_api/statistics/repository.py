"""The statistics' SQL: every count is a ``GROUP BY`` in the database.

A cell is one value of the grouping dimension. Its rows are the alerts matching the filters
(:func:`exchange_api.alerts.search_query.filter_conditions`, plus the caller's visibility in scope
``visible``), joined to their substance rows for the quantities; an alert counts once per
cell and its quantities once per substance. When the filters name substances, only those
substances' rows are joined: the cells and quantities are of the substances asked about.

Each cell also carries its number of distinct reporting agencies, which the service needs to
decide what the network scope may publish. So every count is made per (cell, reporting agency)
first and the cells summed from those: from the alerts in hashed ``GROUP BY`` levels (at 1M
alerts a ``COUNT(DISTINCT)`` sorted a million rows on disk), or from the rollup
(:mod:`exchange_api.statistics.rollup`), or from both for disjoint sets of alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    case,
    distinct,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col

from exchange_api.alerts.search_query import AlertFilters, filter_conditions
from exchange_api.models.agencies import Agency
from exchange_api.models.alerts import Alert, AlertCountry, AlertSubstance
from exchange_api.models.statistics import AlertRollup, UncataloguedSighting
from exchange_api.statistics.rollup import RollupFilter

__all__ = ["Cell", "EmergingRow", "StatisticsRepository"]

# Aliases: the filters' EXISTS probes name the tables themselves, and must not correlate with
# the rows this query groups.
_LINE: Any = aliased(AlertSubstance, name="line")
_LEG: Any = aliased(AlertCountry, name="leg")
_LEG_FLAGS = {
    "origin": _LEG.is_origin,
    "transit": _LEG.is_transit,
    "destination": _LEG.is_destination,
}
_ALERT_COLUMNS = {"incident_type": Alert.incident_type, "status": Alert.status}
_SIGHTING: Any = SQLModel.metadata.tables[UncataloguedSighting.__tablename__].c


@dataclass(frozen=True)
class Cell:
    key: str
    alerts: int
    agencies: int
    quantity_kg: float | None
    quantity_l: float | None


@dataclass(frozen=True)
class EmergingRow:
    key: str
    name: str | None
    alerts: int
    agencies: int
    first_seen: date
    last_seen: date


def _substance_rows(filters: AlertFilters) -> list[ColumnElement[bool]]:
    """Conditions on ``alert_substances`` keeping the rows of the substances the filters name."""
    kept: list[ColumnElement[bool]] = []
    if filters.substances:
        kept.append(_LINE.substance_key.in_(filters.substances))
    if filters.substance_name is not None:
        kept.append(
            or_(
                _LINE.substance_key == filters.substance_name.key,
                _LINE.name == filters.substance_name.name,
            )
        )
    return kept


def _rolled_per_agency(group_by: str, kept: RollupFilter, rows: ColumnElement[bool]) -> Select[Any]:
    """:meth:`StatisticsRepository._per_agency` from the rollup: by substance each row's
    ``alerts``, by month its ``lead_alerts`` (each alert counted at one of its substances)."""
    key = col(AlertRollup.substance_key) if group_by == "substance" else col(AlertRollup.month)
    alerts = AlertRollup.alerts if group_by == "substance" else AlertRollup.lead_alerts
    agency = col(AlertRollup.reporting_agency_id)
    where = [rows]
    if kept.first_month is not None:
        where.append(col(AlertRollup.month) >= kept.first_month)
    if kept.last_month is not None:
        where.append(col(AlertRollup.month) <= kept.last_month)
    if kept.reporting_agency is not None:
        where.append(agency == kept.reporting_agency)
    if kept.substances:
        where.append(col(AlertRollup.substance_key).in_(kept.substances))
    statement: Select[Any] = (
        select()
        .add_columns(
            key.label("key"),
            agency.label("agency"),
            func.sum(col(alerts)).label("alerts"),
            func.sum(case((col(AlertRollup.kg_lines) > 0, col(AlertRollup.quantity_kg)))).label(
                "quantity_kg"
            ),
            func.sum(case((col(AlertRollup.l_lines) > 0, col(AlertRollup.quantity_l)))).label(
                "quantity_l"
            ),
        )
        .where(*where)
        .group_by(key, agency)
    )
    return statement


class StatisticsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _month(self) -> ColumnElement[Any]:
        if self.session.get_bind().dialect.name == "postgresql":
            return func.to_char(col(Alert.detected_on), "YYYY-MM")
        return func.strftime("%Y-%m", col(Alert.detected_on))

    def _keyed(self, group_by: str, statement: Select[Any]) -> tuple[Select[Any], Any]:
        """``statement`` joined to what ``group_by`` needs, and the cell key expression."""
        if group_by == "substance":
            return statement, _LINE.substance_key
        if group_by in _LEG_FLAGS or group_by == "country":
            joined = statement.join(_LEG, _LEG.alert_id == col(Alert.id))
            if group_by in _LEG_FLAGS:
                joined = joined.where(_LEG_FLAGS[group_by].is_(True))
            return joined, _LEG.country
        if group_by == "reporting_country":
            joined = statement.join(Agency, col(Agency.id) == col(Alert.reporting_agency_id))
            return joined, col(Agency.country)
        if group_by == "month":
            return statement, self._month()
        return statement, col(_ALERT_COLUMNS[group_by])

    def cells(
        self, group_by: str, filters: AlertFilters, scope: Sequence[ColumnElement[bool]]
    ) -> list[Cell]:
        """Every cell of ``group_by`` over the alerts matching ``filters`` and ``scope`` (the
        caller's visibility, or nothing for the whole network), counted from the alerts."""
        return self._summed([self._per_agency(group_by, filters, scope)])

    def rolled_cells(
        self,
        group_by: str,
        kept: RollupFilter,
        rows: ColumnElement[bool],
        rest: tuple[AlertFilters, Sequence[ColumnElement[bool]]] | None = None,
    ) -> list[Cell]:
        """The cells of ``group_by`` (substance or month) from the rollup's ``rows`` matching
        ``kept``, plus, if ``rest`` is given, those counted from the alerts matching its filters
        and scope (which must be alerts outside ``rows``)."""
        parts = [_rolled_per_agency(group_by, kept, rows)]
        if rest is not None:
            parts.append(self._per_agency(group_by, *rest))
        return self._summed(parts)

    def _per_agency(
        self, group_by: str, filters: AlertFilters, scope: Sequence[ColumnElement[bool]]
    ) -> Select[Any]:
        """Per (cell key, reporting agency): alerts and quantities. An alert has one row per
        substance key, so grouped by substance a row is an alert; otherwise the alert's rows
        are first summed into one (a hashed ``GROUP BY``, not a sorted ``COUNT(DISTINCT)``)."""
        base = select().select_from(Alert).join(_LINE, _LINE.alert_id == col(Alert.id))
        statement, key = self._keyed(group_by, base)
        agency = col(Alert.reporting_agency_id)
        where = (*scope, *filter_conditions(filters), *_substance_rows(filters))
        if group_by == "substance":
            return (
                statement.add_columns(
                    key.label("key"),
                    agency.label("agency"),
                    func.count().label("alerts"),
                    func.sum(_LINE.quantity_kg).label("quantity_kg"),
                    func.sum(_LINE.quantity_l).label("quantity_l"),
                )
                .where(*where)
                .group_by(key, agency)
            )
        per_alert = (
            statement.add_columns(
                key.label("key"),
                agency.label("agency"),
                func.sum(_LINE.quantity_kg).label("quantity_kg"),
                func.sum(_LINE.quantity_l).label("quantity_l"),
            )
            .where(*where)
            .group_by(key, agency, col(Alert.id))
            .subquery("per_alert")
        )
        return select(
            per_alert.c.key,
            per_alert.c.agency,
            func.count().label("alerts"),
            func.sum(per_alert.c.quantity_kg).label("quantity_kg"),
            func.sum(per_alert.c.quantity_l).label("quantity_l"),
        ).group_by(per_alert.c.key, per_alert.c.agency)

    def _summed(self, parts: Sequence[Select[Any]]) -> list[Cell]:
        """Cells from per-agency parts counting disjoint sets of alerts."""
        rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("part")
        statement = select(
            rows.c.key,
            func.sum(rows.c.alerts).label("alerts"),
            func.count(distinct(rows.c.agency)).label("agencies"),
            func.sum(rows.c.quantity_kg).label("quantity_kg"),
            func.sum(rows.c.quantity_l).label("quantity_l"),
        ).group_by(rows.c.key)
        return [
            Cell(
                key=str(row.key),
                alerts=int(row.alerts),
                agencies=int(row.agencies),
                quantity_kg=None if row.quantity_kg is None else float(row.quantity_kg),
                quantity_l=None if row.quantity_l is None else float(row.quantity_l),
            )
            for row in self.session.execute(statement)
        ]

    def stage_counts(
        self,
        group_by: str,
        filters: AlertFilters,
        scope: Sequence[ColumnElement[bool]],
        followups: FromClause,
    ) -> dict[tuple[str, str], int]:
        """Per (cell key, follow-up kind): the cell's alerts with at least one of ``followups``
        of that kind. ``followups`` has columns ``alert_id`` and ``kind``: the follow-ups the
        scope allows (visible ones, or all for the network), built by their own domain."""
        base = select().select_from(Alert).join(_LINE, _LINE.alert_id == col(Alert.id))
        statement, key = self._keyed(group_by, base)
        kind = followups.c.kind
        statement = (
            statement.join(followups, followups.c.alert_id == col(Alert.id))
            .add_columns(key.label("key"), kind.label("kind"), func.count(distinct(col(Alert.id))))
            .where(*scope, *filter_conditions(filters), *_substance_rows(filters))
            .group_by(key, kind)
        )
        return {(str(row[0]), str(row[1])): int(row[2]) for row in self.session.execute(statement)}

    def emerging(
        self,
        since: date,
        catalogued: frozenset[str],
        *,
        min_alerts: int,
        min_agencies: int,
        keys: Sequence[str] | None = None,
    ) -> list[EmergingRow]:
        """Substance keys outside ``catalogued`` (and among ``keys``, if given) detected since
        ``since`` on at least ``min_alerts`` alerts from at least ``min_agencies`` agencies, every
        alert counted.

        Read from the uncatalogued sightings (one row per day, key, agency and name; an alert has
        one substance row per key, so its rows count alerts), per (key, agency) then per key, both
        hashed. ``catalogued`` still applies: a key the catalogue has come to list keeps its
        earlier rows."""
        per_agency = (
            select(
                _SIGHTING.substance_key.label("key"),
                func.min(func.nullif(_SIGHTING.name, "")).label("name"),
                func.sum(_SIGHTING.alerts).label("alerts"),
                func.min(_SIGHTING.detected_on).label("first_seen"),
                func.max(_SIGHTING.detected_on).label("last_seen"),
            )
            .where(*_sighted(since, catalogued, keys))
            .group_by(_SIGHTING.substance_key, _SIGHTING.reporting_agency_id)
            .subquery("per_agency")
        )
        alerts = func.sum(per_agency.c.alerts)
        agencies = func.count()
        statement = (
            select(
                per_agency.c.key,
                func.min(per_agency.c.name),
                alerts,
                agencies,
                func.min(per_agency.c.first_seen),
                func.max(per_agency.c.last_seen),
            )
            .group_by(per_agency.c.key)
            .having(alerts >= min_alerts, agencies >= min_agencies)
        )
        return [
            EmergingRow(
                key=str(row[0]),
                name=row[1],
                alerts=int(row[2]),
                agencies=int(row[3]),
                first_seen=row[4],
                last_seen=row[5],
            )
            for row in self.session.execute(statement)
        ]

    def reporting_countries(self, since: date, keys: Sequence[str]) -> dict[str, list[str]]:
        """Per uncatalogued substance key: the countries of the agencies that reported it since
        ``since``."""
        if not keys:
            return {}
        statement = (
            select(_SIGHTING.substance_key, col(Agency.country))
            .join(Agency, col(Agency.id) == _SIGHTING.reporting_agency_id)
            .where(*_sighted(since, frozenset(), keys))
            .group_by(_SIGHTING.substance_key, col(Agency.country))
            .order_by(_SIGHTING.substance_key, col(Agency.country))
        )
        countries: dict[str, list[str]] = {}
        for key, country in self.session.execute(statement):
            countries.setdefault(str(key), []).append(str(country))
        return countries


def _sighted(
    since: date, catalogued: frozenset[str], keys: Sequence[str] | None
) -> list[ColumnElement[bool]]:
    """The uncatalogued sightings since ``since`` of keys outside ``catalogued`` (among
    ``keys``, if given)."""
    where = [_SIGHTING.detected_on >= since, _SIGHTING.substance_key.not_in(sorted(catalogued))]
    if keys is not None:
        where.append(_SIGHTING.substance_key.in_(keys))
    return where
