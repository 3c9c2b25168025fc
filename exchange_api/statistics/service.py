"""The rules of statistics: who may count what, what the network scope may publish, the
early-warning thresholds, and the audit record of every statistics read.

Scopes (docs/contract.md, "Statistics"):

- ``visible``: the alerts the caller may see, by the same SQL condition as search
  (:func:`exchange_api.alerts.visibility.visible_to`); exact, nothing left out.
- ``network``: every alert's routing facts, shredded alerts included. A cell backed by fewer than
  ``stats_min_cell`` alerts or by a single reporting agency is left out and counted in
  ``suppressed`` (a number of cells, never of alerts); so is a penal-chain stage count below
  ``stats_min_cell``. Dates must bound whole months, so no query isolates a shorter span. Not
  for ``industry`` agencies, which see nothing of other agencies' alerts.

The audit entry (``statistics.read``) names the report and the query in ``fields`` (as
``name=value`` terms: routing facts only) and the number of cells returned in
``result_count``; it lists no alert id in either scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import ColumnElement, true
from sqlmodel import Session

from exchange_api.alerts.search_query import AlertFilters
from exchange_api.alerts.service import routing_filters
from exchange_api.alerts.visibility import visible_in_rollup, visible_to
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.config import Settings
from exchange_api.followups.repository import counted_followups
from exchange_api.models.agencies import AgencyKind
from exchange_api.reference.catalogue import catalogue_keys
from exchange_api.reference.schemas import NAME_KEY_PREFIX
from exchange_api.statistics.errors import (
    NetworkScopeForbidden,
    ThresholdTooLow,
    WindowNotWholeMonths,
)
from exchange_api.statistics.repository import Cell, StatisticsRepository
from exchange_api.statistics.rollup import ends_a_month, rollup_filter
from exchange_api.statistics.schemas import (
    AlertCell,
    AlertStatistics,
    EmergingList,
    EmergingQuery,
    EmergingSubstance,
    PenalChainCell,
    PenalChainStatistics,
    StatisticsQuery,
)

__all__ = ["alert_statistics", "emerging_substances", "penal_chain_statistics"]


def _scope_conditions(caller: Caller, query: StatisticsQuery) -> list[ColumnElement[bool]]:
    if query.scope == "visible":
        return [visible_to(caller)]
    if caller.agency_kind is AgencyKind.INDUSTRY:
        raise NetworkScopeForbidden()
    after, before = query.detected_after, query.detected_before
    if (after is not None and after.day != 1) or (before is not None and not ends_a_month(before)):
        raise WindowNotWholeMonths()
    return []


def _publishable(cells: Iterable[Cell], query: StatisticsQuery, min_cell: int) -> list[Cell]:
    if query.scope == "visible":
        return list(cells)
    return [cell for cell in cells if cell.alerts >= min_cell and cell.agencies >= 2]


def _ordered(cells: Iterable[Cell]) -> list[Cell]:
    return sorted(cells, key=lambda cell: (-cell.alerts, cell.key))


def _query_terms(report: str, query: StatisticsQuery | EmergingQuery) -> list[str]:
    """The query as ``name=value`` terms for the audit entry, defaults included."""
    terms = [f"report={report}"]
    for name, value in query.model_dump(mode="json", exclude_none=True).items():
        values = value if isinstance(value, list) else [value]
        terms.extend(f"{name}={item}" for item in values)
    return terms


def _cells(
    repository: StatisticsRepository,
    caller: Caller,
    query: StatisticsQuery,
    filters: AlertFilters,
    scope: list[ColumnElement[bool]],
) -> list[Cell]:
    """The query's cells: from the rollup when it can answer (:func:`rollup_filter`), in scope
    ``visible`` completed from the alerts it cannot attribute (:func:`visible_in_rollup`);
    otherwise counted from the alerts."""
    kept = rollup_filter(query.group_by, filters)
    if kept is None:
        return repository.cells(query.group_by, filters, scope)
    if query.scope == "network":
        return repository.rolled_cells(query.group_by, kept, true())
    rows, rest = visible_in_rollup(caller)
    return repository.rolled_cells(
        query.group_by, kept, rows, None if rest is None else (filters, [rest])
    )


def _counted(
    session: Session, caller: Caller, query: StatisticsQuery, settings: Settings
) -> tuple[StatisticsRepository, AlertFilters, list[ColumnElement[bool]], list[Cell], int]:
    scope = _scope_conditions(caller, query)
    filters = routing_filters(query)
    repository = StatisticsRepository(session)
    cells = _cells(repository, caller, query, filters, scope)
    shown = _ordered(_publishable(cells, query, settings.stats_min_cell))
    return repository, filters, scope, shown, len(cells) - len(shown)


def alert_statistics(
    session: Session,
    settings: Settings,
    caller: Caller,
    query: StatisticsQuery,
    audit: AuditRecorder,
) -> AlertStatistics:
    """Alerts and quantities per cell of ``query.group_by``, in the query's scope."""
    _, _, _, shown, suppressed = _counted(session, caller, query, settings)
    audit.record(
        AuditAction.STATISTICS_READ, result_count=len(shown), fields=_query_terms("alerts", query)
    )
    return AlertStatistics(
        scope=query.scope,
        group_by=query.group_by,
        items=[
            AlertCell(
                key=cell.key,
                alerts=cell.alerts,
                quantity_kg=cell.quantity_kg,
                quantity_l=cell.quantity_l,
            )
            for cell in shown
        ],
        suppressed=suppressed,
    )


def penal_chain_statistics(
    session: Session,
    settings: Settings,
    caller: Caller,
    query: StatisticsQuery,
    audit: AuditRecorder,
) -> PenalChainStatistics:
    """Per cell: its alerts, and per follow-up kind those with at least one such follow-up.

    The follow-ups counted are those the scope allows (the follow-ups domain says which: the
    caller's visible ones in scope ``visible``, all of them in scope ``network``). In scope
    network a stage counted below the cell minimum is left out and counted in ``suppressed``
    like a cell.
    """
    repository, filters, scope, shown, suppressed = _counted(session, caller, query, settings)
    stages: dict[tuple[str, str], int] = {}
    if shown:
        followups = counted_followups(caller if query.scope == "visible" else None)
        stages = repository.stage_counts(query.group_by, filters, scope, followups)
    if query.scope == "network":
        published = {cell.key for cell in shown}
        small = [
            pair
            for pair, count in stages.items()
            if pair[0] in published and count < settings.stats_min_cell
        ]
        suppressed += len(small)
        stages = {pair: count for pair, count in stages.items() if pair not in small}
    audit.record(
        AuditAction.STATISTICS_READ,
        result_count=len(shown),
        fields=_query_terms("penal-chain", query),
    )
    return PenalChainStatistics(
        scope=query.scope,
        group_by=query.group_by,
        items=[
            PenalChainCell(
                key=cell.key,
                alerts=cell.alerts,
                stages={kind: n for (key, kind), n in sorted(stages.items()) if key == cell.key},
            )
            for cell in shown
        ],
        suppressed=suppressed,
    )


def _threshold(name: str, asked: int | None, minimum: int) -> int:
    if asked is None:
        return minimum
    if asked < minimum:
        raise ThresholdTooLow(name, minimum)
    return asked


def emerging_substances(
    session: Session,
    settings: Settings,
    caller: Caller,
    query: EmergingQuery,
    today: date,
    audit: AuditRecorder,
) -> EmergingList:
    """Uncatalogued substances (an unlisted CAS number, or a name the catalogue does not know)
    detected in the last ``query.days`` days on enough alerts from enough agencies, counted over
    the whole network. The agency threshold is what keeps one agency's reports private, so it is
    never lowered below the setting (nor the alert threshold)."""
    if caller.agency_kind is AgencyKind.INDUSTRY:
        raise NetworkScopeForbidden()
    min_alerts = _threshold("min_alerts", query.min_alerts, settings.emerging_min_alerts)
    min_agencies = _threshold("min_agencies", query.min_agencies, settings.emerging_min_agencies)
    since = today - timedelta(days=query.days)
    repository = StatisticsRepository(session)
    rows = repository.emerging(
        since, catalogue_keys(), min_alerts=min_alerts, min_agencies=min_agencies
    )
    countries = repository.reporting_countries(since, [row.key for row in rows])
    items = [
        EmergingSubstance(
            cas=None if row.key.startswith(NAME_KEY_PREFIX) else row.key,
            name=row.name,
            alerts=row.alerts,
            agencies=row.agencies,
            countries=countries.get(row.key, []),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
        )
        for row in sorted(rows, key=lambda row: (-row.alerts, row.key))
    ]
    audit.record(
        AuditAction.STATISTICS_READ,
        result_count=len(items),
        fields=_query_terms("emerging", query),
    )
    return EmergingList(items=items)
