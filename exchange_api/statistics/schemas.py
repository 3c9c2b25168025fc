"""Statistics parameters and answers."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from exchange_api.alerts.schemas import AlertFilterQuery
from exchange_api.alerts.schemas.parts import StrictModel

__all__ = [
    "EMERGING_DAYS",
    "AlertCell",
    "AlertStatistics",
    "EmergingList",
    "EmergingQuery",
    "EmergingSubstance",
    "GroupBy",
    "PenalChainCell",
    "PenalChainStatistics",
    "StatisticsQuery",
    "StatisticsScope",
]

GroupBy = Literal[
    "substance",
    "origin",
    "transit",
    "destination",
    "country",
    "incident_type",
    "status",
    "month",
    "reporting_country",
]
StatisticsScope = Literal["visible", "network"]
EMERGING_DAYS = 90
"""The early warning's default window, in days (also the window of ``substance.emerging``)."""


class StatisticsQuery(AlertFilterQuery):
    """What to count and how to group it; the search filters on routing facts narrow it."""

    group_by: GroupBy = Field(
        description="The cell key: a substance key, a country (of a leg, of any leg, or of the "
        "reporting agency), an incident type, a status, or a month (YYYY-MM of detection)."
    )
    scope: StatisticsScope = Field(
        default="visible",
        description="`visible`: exactly the alerts the caller may see. `network`: every alert's "
        "routing facts, cells below the thresholds left out (not for industry agencies).",
    )


class EmergingQuery(StrictModel):
    """The window and thresholds of the early warning; thresholds may be raised, not lowered
    below the service's settings."""

    days: int = Field(
        default=EMERGING_DAYS, ge=1, le=3660, description="Window: detected in the last days."
    )
    min_alerts: int | None = Field(
        default=None, ge=1, le=100_000, description="Fewest alerts (default: the setting, 3)."
    )
    min_agencies: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Fewest reporting agencies (default: the setting, 2).",
    )


class AlertCell(BaseModel):
    key: str
    alerts: int = Field(description="Alerts in the cell (each counted once).")
    quantity_kg: float | None = Field(
        description="Mass units (mg, g, kg, t) added up as kilograms; null if none."
    )
    quantity_l: float | None = Field(
        description="Volume units (ml, l, m3) added up as litres; null if none. Pieces (pcs) "
        "are not summed."
    )


class AlertStatistics(BaseModel):
    scope: StatisticsScope
    group_by: GroupBy
    items: list[AlertCell] = Field(description="Cells by number of alerts, most first, then key.")
    suppressed: int = Field(
        description="Cells left out because fewer than the minimum alerts or a single reporting "
        "agency back them (always 0 in scope visible). A number of cells, not of alerts."
    )


class PenalChainCell(BaseModel):
    key: str
    alerts: int
    stages: dict[str, int] = Field(
        description="Per follow-up kind: the cell's alerts with at least one follow-up of that "
        "kind (not cumulative), over the follow-ups the scope allows."
    )


class PenalChainStatistics(BaseModel):
    scope: StatisticsScope
    group_by: GroupBy
    items: list[PenalChainCell]
    suppressed: int


class EmergingSubstance(BaseModel):
    cas: str | None = Field(description="The CAS number sent; null for a name-only substance.")
    name: str | None = Field(description="The name sent, normalised (lower case, single spaces).")
    alerts: int
    agencies: int = Field(description="Distinct reporting agencies.")
    countries: list[str] = Field(description="Countries of the reporting agencies.")
    first_seen: date = Field(description="Earliest detection date in the window.")
    last_seen: date = Field(description="Latest detection date in the window.")


class EmergingList(BaseModel):
    items: list[EmergingSubstance] = Field(description="Most alerts first.")
