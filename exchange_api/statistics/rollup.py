"""The statistics rollups (``alert_rollup`` and ``uncatalogued_sightings``,
:mod:`exchange_api.models.statistics`): kept current in each alert write's transaction, and which
statistics queries the first answers (the second is the early warning's, read by
:meth:`exchange_api.statistics.repository.StatisticsRepository.emerging`).

Writing: the alerts domain calls :func:`roll` in the transaction that stores an alert's routing
facts, with what the alert counted for before (nothing for a new alert) and what it counts for
now. The difference is added to the rows it touches with one upsert per table (``INSERT … ON
CONFLICT DO UPDATE``), in primary-key order so that two transactions touching the same rows wait
for one another rather than deadlock; rows left with no alert are deleted.

Reading: :func:`rollup_filter` says whether a query can be answered from the rollup: grouped by
substance or by month, with no filter but a window of whole months, a reporting agency and (when
grouped by substance) substances. Any other filter (substance name, incident type, status,
country or leg, party or document tags, stage), a window not of whole months, or another grouping
is counted from the alerts themselves (docs/decisions/0030-statistics-rollup.md).
"""

from __future__ import annotations

import calendar
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, delete, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from exchange_api.alerts.search_query import AlertFilters
from exchange_api.models.statistics import AlertRollup, UncataloguedSighting
from exchange_api.reference.catalogue import catalogue_keys

__all__ = [
    "RolledAlert",
    "RollupFilter",
    "audience_of",
    "month_of",
    "roll",
    "rolled_alerts",
    "rollup_filter",
]

_TABLE: Table = SQLModel.metadata.tables[AlertRollup.__tablename__]
_SIGHTINGS: Table = SQLModel.metadata.tables[UncataloguedSighting.__tablename__]
_COUNTED = {
    _TABLE: ("alerts", "lead_alerts", "quantity_kg", "kg_lines", "quantity_l", "l_lines"),
    _SIGHTINGS: ("alerts",),
}
ROLLED_GROUPINGS = frozenset({"substance", "month"})


def month_of(day: date) -> str:
    """The rollup's (and the statistics') month key: ``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


def ends_a_month(day: date) -> bool:
    """Whether ``day`` is the last of its month; asked of the calendar, not of the day after,
    which ``date.max`` (a window's open end, as a client may write it) does not have."""
    return day.day == calendar.monthrange(day.year, day.month)[1]


@dataclass(frozen=True)
class RolledAlert:
    """What one alert counts for in the rollups: its routing facts and substance rows
    (``substance_key``, ``name``, ``quantity_kg``, ``quantity_l``, as in ``alert_substances``)."""

    detected_on: date
    reporting_agency_id: uuid.UUID
    audience: str
    lines: Sequence[Mapping[str, Any]]


def audience_of(distribution: Mapping[str, Any]) -> str:
    """The rollup's audience of a distribution (JSON form): its scope, and for ``kinds`` the
    kinds in alphabetical order between commas (so a kind is found as ``,kind,``)."""
    scope = str(distribution["scope"])
    if scope != "kinds":
        return scope
    return "kinds:," + "".join(f"{kind}," for kind in sorted(distribution["kinds"]))


def rolled_alerts(
    alerts: Iterable[Mapping[str, Any]], lines: Iterable[Mapping[str, Any]]
) -> list[RolledAlert]:
    """The new alerts of a bulk insert (rows of ``alerts`` and of ``alert_substances``)."""
    by_alert: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for line in lines:
        by_alert[line["alert_id"]].append(line)
    return [
        RolledAlert(
            detected_on=alert["detected_on"],
            reporting_agency_id=alert["reporting_agency_id"],
            audience=audience_of(alert["distribution"]),
            lines=by_alert[alert["id"]],
        )
        for alert in alerts
    ]


def _add(totals: dict[tuple[Any, ...], list[float]], alert: RolledAlert, sign: int) -> None:
    if not alert.lines:
        return
    lead = min(line["substance_key"] for line in alert.lines)
    month = month_of(alert.detected_on)
    for line in alert.lines:
        key = (month, line["substance_key"], alert.reporting_agency_id, alert.audience)
        kg, litres = line["quantity_kg"], line["quantity_l"]
        counted = totals.setdefault(key, [0, 0, 0.0, 0, 0.0, 0])
        for index, value in enumerate(
            (
                1,
                1 if line["substance_key"] == lead else 0,
                kg or 0.0,
                kg is not None,
                litres or 0.0,
                litres is not None,
            )
        ):
            counted[index] += sign * value


def _sight(totals: dict[tuple[Any, ...], list[float]], alert: RolledAlert, sign: int) -> None:
    catalogued = catalogue_keys()
    for line in alert.lines:
        if line["substance_key"] not in catalogued:
            key = (alert.detected_on, line["substance_key"], alert.reporting_agency_id)
            totals.setdefault((*key, line["name"] or ""), [0])[0] += sign


def roll(session: Session, now: Iterable[RolledAlert], before: Iterable[RolledAlert] = ()) -> None:
    """Add what the alerts count for ``now`` to the rollup and to the uncatalogued sightings,
    and take away what they counted for ``before``, in the caller's transaction."""
    now, before = list(now), list(before)
    for table, count in ((_TABLE, _add), (_SIGHTINGS, _sight)):
        totals: dict[tuple[Any, ...], list[float]] = {}
        for alert in now:
            count(totals, alert, 1)
        for alert in before:
            count(totals, alert, -1)
        _apply(session, table, totals)


def _apply(session: Session, table: Table, totals: dict[tuple[Any, ...], list[float]]) -> None:
    """Add ``totals`` (per primary key in the table's key order, the values of its ``_COUNTED``
    columns) to ``table``'s rows with one upsert, in key order so that two transactions touching
    the same rows wait for one another rather than deadlock; delete the rows left with no alert."""
    keys = [column.name for column in table.primary_key.columns]
    rows = [
        {**dict(zip(keys, key, strict=True)), **dict(zip(_COUNTED[table], values, strict=True))}
        for key, values in sorted(totals.items(), key=lambda item: tuple(map(str, item[0])))
        if any(values)
    ]
    if not rows:
        return
    session.execute(_upsert(session.get_bind().dialect.name, table), rows)
    emptied = [tuple(row[name] for name in keys) for row in rows if int(row["alerts"]) < 0]
    if emptied:
        session.execute(
            delete(table).where(
                table.c.alerts == 0, tuple_(*(table.c[name] for name in keys)).in_(emptied)
            )
        )


@functools.cache
def _upsert(dialect_name: str, table: Table) -> Any:
    """The upsert adding to ``table``'s counted columns, built once per dialect: building it
    (its ``excluded`` columns) took 4 % of a single POST's worker CPU."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={name: table.c[name] + statement.excluded[name] for name in _COUNTED[table]},
    )


@dataclass(frozen=True)
class RollupFilter:
    """The part of a query's filters the rollup can apply (months inclusive)."""

    first_month: str | None
    last_month: str | None
    reporting_agency: uuid.UUID | None
    substances: tuple[str, ...]


def rollup_filter(group_by: str, filters: AlertFilters) -> RollupFilter | None:
    """The rollup's form of ``filters``, or None if the rollup cannot answer the query."""
    after, before = filters.detected_after, filters.detected_before
    if (
        group_by not in ROLLED_GROUPINGS
        or (filters.substances and group_by != "substance")
        or filters.substance_name is not None
        or filters.incident_types
        or filters.statuses
        or filters.countries
        or filters.tags
        or filters.stages
        or (after is not None and after.day != 1)
        or (before is not None and not ends_a_month(before))
    ):
        return None
    return RollupFilter(
        first_month=None if after is None else month_of(after),
        last_month=None if before is None else month_of(before),
        reporting_agency=filters.reporting_agency,
        substances=filters.substances,
    )
