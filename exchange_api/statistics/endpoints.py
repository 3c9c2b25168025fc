"""HTTP endpoints of statistics (docs/contract.md, "Statistics"): thin, each calls one service,
which also records the read in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from exchange_api.audit.recorder import AuditDep
from exchange_api.auth.scopes import AlertsRead
from exchange_api.errors import responses
from exchange_api.kit.dependencies import ClockDep, SessionDep, SettingsDep
from exchange_api.kit.query_params import forbid_unknown_query_params
from exchange_api.statistics import service
from exchange_api.statistics.errors import (
    NetworkScopeForbidden,
    ThresholdTooLow,
    WindowNotWholeMonths,
)
from exchange_api.statistics.schemas import (
    AlertStatistics,
    EmergingList,
    EmergingQuery,
    PenalChainStatistics,
    StatisticsQuery,
)

__all__ = ["router"]

router = APIRouter(prefix="/statistics", tags=["statistics"])

_STATISTICS_PARAMS = [Depends(forbid_unknown_query_params(StatisticsQuery.model_fields))]
_SCOPE_ERRORS = responses(
    NetworkScopeForbidden.response("scope=network asked by an industry agency."),
    WindowNotWholeMonths.response("scope=network with dates that do not bound whole months."),
)


@router.get(
    "/alerts",
    response_model=AlertStatistics,
    dependencies=_STATISTICS_PARAMS,
    responses=_SCOPE_ERRORS,
)
def alert_statistics(
    query: Annotated[StatisticsQuery, Query()],
    caller: AlertsRead,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> AlertStatistics:
    """Count alerts, and add up their quantities (kg, litres), per `group_by` cell.

    The search filters (all but `party` and `document`) narrow the count; when they name
    substances, the quantities are those substances'. `scope=visible` (default) counts exactly
    the alerts the caller may see. `scope=network` counts every alert's routing facts but leaves
    out any cell backed by fewer than `EXCHANGE_STATS_MIN_CELL` alerts or by one reporting
    agency, counting it in `suppressed`; its dates must bound whole months.
    """
    return service.alert_statistics(session, settings, caller, query, audit)


@router.get(
    "/penal-chain",
    response_model=PenalChainStatistics,
    dependencies=_STATISTICS_PARAMS,
    responses=_SCOPE_ERRORS,
)
def penal_chain_statistics(
    query: Annotated[StatisticsQuery, Query()],
    caller: AlertsRead,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> PenalChainStatistics:
    """The penal-chain funnel: per cell, its alerts and, per follow-up kind, how many of them
    have at least one follow-up of that kind (not cumulative), over the follow-ups the scope
    allows. Scopes and suppression as for `/v1/statistics/alerts`; a stage count below the
    minimum is left out in scope network."""
    return service.penal_chain_statistics(session, settings, caller, query, audit)


@router.get(
    "/emerging",
    response_model=EmergingList,
    dependencies=[Depends(forbid_unknown_query_params(EmergingQuery.model_fields))],
    responses=responses(
        NetworkScopeForbidden.response("Asked by an industry agency."),
        ThresholdTooLow.response("A threshold below the service's minimum."),
    ),
)
def emerging_substances(
    query: Annotated[EmergingQuery, Query()],
    caller: AlertsRead,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    audit: AuditDep,
) -> EmergingList:
    """Early warning: substances the catalogue does not list (an unknown CAS number, or a name
    only) recurring across the network, detected within the last `days` days on at least
    `min_alerts` alerts from at least `min_agencies` reporting agencies. The thresholds may be
    raised, never lowered below the service's settings (3 and 2 by default): the agency
    threshold keeps one agency's reports private."""
    return service.emerging_substances(session, settings, caller, query, clock.today(), audit)
