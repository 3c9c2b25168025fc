"""The statistics rollup: per-cell counts kept current in each alert write's transaction.

``alert_rollup`` has one row per (month of detection, substance key, reporting agency, whether
the alert is distributed to the whole network) with the alerts counted there: ``alerts`` (those
with that substance, each once: an alert's substance keys are distinct), ``lead_alerts`` (those
whose smallest substance key this is, so summing it over the keys of a month counts each alert
once), and their substance lines' quantities in kilograms and litres with the number of lines
that had one (a sum over no lines is "no quantity", not zero).

It answers the statistics grouped by substance or month whose filters it can express
(:mod:`exchange_api.statistics.rollup`); ``network`` is what lets the ``visible`` scope use it
exactly: an alert distributed to the network, or of the caller's agency, is visible to the
caller, and the rest of what it sees is read from ``alerts`` itself. Rows whose ``alerts``
fall to zero are deleted. Shredding leaves routing facts, so it leaves the rollup too.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Double
from sqlmodel import Field, SQLModel

from exchange_api.models.alerts import MAX_SUBSTANCE_KEY

__all__ = ["AlertRollup"]


class AlertRollup(SQLModel, table=True):
    __tablename__ = "alert_rollup"

    month: str = Field(primary_key=True, max_length=7)
    substance_key: str = Field(primary_key=True, max_length=MAX_SUBSTANCE_KEY)
    reporting_agency_id: uuid.UUID = Field(primary_key=True)
    network: bool = Field(primary_key=True)
    alerts: int = Field(nullable=False)
    lead_alerts: int = Field(nullable=False)
    quantity_kg: float = Field(sa_type=Double, nullable=False)
    kg_lines: int = Field(nullable=False)
    quantity_l: float = Field(sa_type=Double, nullable=False)
    l_lines: int = Field(nullable=False)
