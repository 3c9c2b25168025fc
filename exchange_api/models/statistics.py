"""The statistics rollup: per-cell counts kept current in each alert write's transaction.

``alert_rollup`` has one row per (month of detection, substance key, reporting agency, audience)
with the alerts counted there: ``alerts`` (those
with that substance, each once: an alert's substance keys are distinct), ``lead_alerts`` (those
whose smallest substance key this is, so summing it over the keys of a month counts each alert
once), and their substance lines' quantities in kilograms and litres with the number of lines
that had one (a sum over no lines is "no quantity", not zero).

It answers the statistics grouped by substance or month whose filters it can express
(:mod:`exchange_api.statistics.rollup`). ``audience`` is the alert's distribution without its
agency ids: ``network``, ``agencies``, or ``kinds:,<kind>,<kind>,`` (the kinds in alphabetical
order between commas), which is what lets the ``visible`` scope use it exactly: an alert of the
caller's agency, distributed to the network or to the caller's kind is visible to it, and the
rest of what it sees (alerts distributed to it by id) is read from ``alerts`` itself. Rows whose
``alerts`` fall to zero are deleted. Shredding leaves routing facts, so it leaves the rollup too.

``uncatalogued_sightings`` is the early warning's rollup, kept by the same writes: one row per
(day of detection, uncatalogued substance key, reporting agency, name as reported) with the
alerts counted there. Only keys outside the catalogue have rows, so the many alerts that name
catalogued substances cost it nothing, and the early warning reads a few thousand rows where the
alerts' substance rows of its window would be hundreds of thousands. Days (not months) because
its window ends any day and it answers ``first_seen`` and ``last_seen``; the name is part of the
key so that the smallest name reported in a window stays exact when an alert changes (an
alert's substance without a name is counted under ``""``).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Double
from sqlmodel import Field, SQLModel

from exchange_api.models.alerts import MAX_SUBSTANCE_KEY, MAX_SUBSTANCE_NAME

__all__ = ["MAX_AUDIENCE", "AlertRollup", "UncataloguedSighting"]

MAX_AUDIENCE = 80
"""``kinds:`` and the four kinds an alert may be distributed to, between commas."""


class AlertRollup(SQLModel, table=True):
    __tablename__ = "alert_rollup"

    month: str = Field(primary_key=True, max_length=7)
    substance_key: str = Field(primary_key=True, max_length=MAX_SUBSTANCE_KEY)
    reporting_agency_id: uuid.UUID = Field(primary_key=True)
    audience: str = Field(primary_key=True, max_length=MAX_AUDIENCE)
    alerts: int = Field(nullable=False)
    lead_alerts: int = Field(nullable=False)
    quantity_kg: float = Field(sa_type=Double, nullable=False)
    kg_lines: int = Field(nullable=False)
    quantity_l: float = Field(sa_type=Double, nullable=False)
    l_lines: int = Field(nullable=False)


class UncataloguedSighting(SQLModel, table=True):
    __tablename__ = "uncatalogued_sightings"

    detected_on: date = Field(primary_key=True)
    substance_key: str = Field(primary_key=True, max_length=MAX_SUBSTANCE_KEY)
    reporting_agency_id: uuid.UUID = Field(primary_key=True)
    name: str = Field(primary_key=True, max_length=MAX_SUBSTANCE_NAME)
    alerts: int = Field(nullable=False)
