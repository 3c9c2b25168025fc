"""The statistics rollup (``alert_rollup``, :mod:`exchange_api.models.statistics`): kept current
in each alert write's transaction, and which statistics queries it answers.

Writing: the alerts domain calls :func:`roll` in the transaction that stores an alert's routing
facts, with what the alert counted for before (nothing for a new alert) and what it counts for
now. The difference is added to the rows it touches with one upsert (``INSERT … ON CONFLICT DO
UPDATE``), in primary-key order so that two transactions touching the same rows wait for one
another rather than deadlock; rows left with no alert are deleted.

Reading: :func:`rollup_filter` says whether a query can be answered from the rollup: grouped by
substance or by month, with no filter but a window of whole months, a reporting agency and (when
grouped by substance) substances. Any other filter (substance name, incident type, status,
country or leg, party or document tags, stage), a window not of whole months, or another grouping
is counted from the alerts themselves (docs/decisions/0030-statistics-rollup.md).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, delete, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from exchange_api.alerts.search_query import AlertFilters
from exchange_api.models.statistics import AlertRollup

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
_KEY = ("month", "substance_key", "reporting_agency_id", "audience")
_COUNTED = ("alerts", "lead_alerts", "quantity_kg", "kg_lines", "quantity_l", "l_lines")
ROLLED_GROUPINGS = frozenset({"substance", "month"})


def month_of(day: date) -> str:
    """The rollup's (and the statistics') month key: ``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class RolledAlert:
    """What one alert counts for in the rollup: its routing facts and substance rows
    (``substance_key``, ``quantity_kg``, ``quantity_l``, as in ``alert_substances``)."""

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


def roll(session: Session, now: Iterable[RolledAlert], before: Iterable[RolledAlert] = ()) -> None:
    """Add what the alerts count for ``now`` to the rollup and take away what they counted for
    ``before``, in the caller's transaction."""
    totals: dict[tuple[Any, ...], list[float]] = {}
    for alert in now:
        _add(totals, alert, 1)
    for alert in before:
        _add(totals, alert, -1)
    rows = [
        {**dict(zip(_KEY, key, strict=True)), **dict(zip(_COUNTED, counted, strict=True))}
        for key, counted in sorted(totals.items(), key=lambda item: _order(item[0]))
        if any(counted)
    ]
    if not rows:
        return
    session.execute(_upsert(session), rows)
    emptied = [tuple(row[name] for name in _KEY) for row in rows if int(row["alerts"]) < 0]
    if emptied:
        session.execute(
            delete(_TABLE).where(
                _TABLE.c.alerts == 0, tuple_(*(_TABLE.c[name] for name in _KEY)).in_(emptied)
            )
        )


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    month, substance, agency, audience = key
    return (month, substance, str(agency), audience)


def _upsert(session: Session) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c[name] for name in _KEY],
        set_={name: _TABLE.c[name] + statement.excluded[name] for name in _COUNTED},
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
        or (before is not None and (before + timedelta(days=1)).day != 1)
    ):
        return None
    return RollupFilter(
        first_month=None if after is None else month_of(after),
        last_month=None if before is None else month_of(before),
        reporting_agency=filters.reporting_agency,
        substances=filters.substances,
    )
