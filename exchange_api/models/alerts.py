"""Alerts at rest: routing facts in plain columns, sensitive field groups sealed, search indexes.

One row of ``alerts`` per alert. Routing facts (type, status, dates, substances, route, handling,
distribution, reporting agency) are plain on purpose (docs/decisions/0009): they carry no
personal data and analysts filter and aggregate on them. Each sensitive field group is its own
AES-GCM ciphertext (``sealed_*``) under the alert's data key, which is stored only wrapped by
the keyring's KEK.

The side tables exist for search and visibility, so that every filter is an index range and a
page of results is found in SQL, never by filtering in Python. Their primary keys start with the
searched value and end with the alert id; an alert's rows are found again (to replace them on a
change) through the values the alert row itself records:

- ``alert_substances`` (substance_key, alert_id): one row per distinct substance of an alert, by
  its key (the CAS number, the catalogue entry's key for a name it lists, or ``name:`` and the
  normalised name; :func:`exchange_api.reference.catalogue.substance_key`), with the normalised
  name as sent (for ``substance_name=``) and the line's quantities as kilograms and litres (for
  statistics). A second index by alert id finds an alert's rows and joins them to statistics.
- ``alert_countries`` (country, alert_id): one row per distinct country of the route, with a flag
  per leg it is on, so "this country on any leg" and "this country as origin" are the same index
  range (the second also reads the flag).
- ``alert_audience`` (alert_id, audience): for distribution ``kinds`` and ``agencies``, one row per
  ``kind:<kind>`` or ``agency:<id>`` that may see the alert.
- ``alert_tags`` (field, tag, alert_id): blind indexes of party names and identifiers, document
  numbers and persons (name + date of birth); equality is all they reveal.
- ``alert_versions``: who changed which fields, per version; old and new values of routing facts
  only, never of a sealed group.
- ``idempotency_keys``: per client, the key, a hash of the body and the answer given.

Past its review date an alert is shredded (:mod:`exchange_api.alerts.retention`): its wrapped
DEK and every ``sealed_*`` column become NULL, its ``alert_tags`` rows are deleted and
``shredded_at`` says when. The routing facts and the side tables that index them stay.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Double, Index, text
from sqlmodel import Field, SQLModel

from exchange_api.models.types import UTCDateTime

__all__ = [
    "MAX_SUBSTANCE_KEY",
    "MAX_SUBSTANCE_NAME",
    "Alert",
    "AlertAudience",
    "AlertCountry",
    "AlertSubstance",
    "AlertTag",
    "AlertVersionRecord",
    "IdempotencyKey",
]


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_reporting_agency_id_id", "reporting_agency_id", "id"),
        # Statistics and the early warning read only these columns (migration 0017).
        Index(
            "ix_alerts_detected_on",
            "detected_on",
            postgresql_include=["id", "reporting_agency_id", "distribution_scope"],
        ),
        # Alerts still to shred, in the order retention takes them (retention.py).
        Index(
            "ix_alerts_due",
            "review_by",
            "id",
            postgresql_where=text("shredded_at IS NULL"),
            sqlite_where=text("shredded_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    version: int = Field(nullable=False)
    reporting_agency_id: uuid.UUID = Field(foreign_key="agencies.id", nullable=False)
    incident_type: str = Field(max_length=32, nullable=False)
    status: str = Field(max_length=32, nullable=False)
    detected_on: date = Field(nullable=False)
    review_by: date = Field(nullable=False)
    distribution_scope: str = Field(max_length=16, nullable=False)
    substances: list[dict[str, Any]] = Field(sa_type=JSON, nullable=False)
    route: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    handling: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    distribution: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    kek_version: int = Field(nullable=False)
    wrapped_dek: bytes | None = Field(default=None, nullable=True)
    dek_version: int = Field(nullable=False)
    sealed_parties: bytes | None = Field(default=None, nullable=True)
    sealed_documents: bytes | None = Field(default=None, nullable=True)
    sealed_persons: bytes | None = Field(default=None, nullable=True)
    sealed_narrative: bytes | None = Field(default=None, nullable=True)
    sealed_reference: bytes | None = Field(default=None, nullable=True)
    sealed_contact: bytes | None = Field(default=None, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    shredded_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


MAX_SUBSTANCE_NAME = 200
"""A substance name's length, as sent and once normalised."""
MAX_SUBSTANCE_KEY = MAX_SUBSTANCE_NAME + len("name:")


class AlertSubstance(SQLModel, table=True):
    __tablename__ = "alert_substances"
    __table_args__ = (
        Index("ix_alert_substances_name", "name", "alert_id"),
        Index(
            "ix_alert_substances_alert_id",
            "alert_id",
            "substance_key",
            "quantity_kg",
            "quantity_l",
        ),
    )

    substance_key: str = Field(primary_key=True, max_length=MAX_SUBSTANCE_KEY)
    alert_id: uuid.UUID = Field(primary_key=True, foreign_key="alerts.id")
    name: str | None = Field(default=None, max_length=MAX_SUBSTANCE_NAME, nullable=True)
    quantity_kg: float | None = Field(default=None, sa_type=Double, nullable=True)
    quantity_l: float | None = Field(default=None, sa_type=Double, nullable=True)


class AlertCountry(SQLModel, table=True):
    __tablename__ = "alert_countries"

    country: str = Field(primary_key=True, max_length=2)
    alert_id: uuid.UUID = Field(primary_key=True, foreign_key="alerts.id")
    is_origin: bool = Field(nullable=False)
    is_transit: bool = Field(nullable=False)
    is_destination: bool = Field(nullable=False)


class AlertAudience(SQLModel, table=True):
    __tablename__ = "alert_audience"
    # The alerts addressed to one agency, for the statistics' visible scope (migration 0019).
    __table_args__ = (Index("ix_alert_audience_audience", "audience", "alert_id"),)

    alert_id: uuid.UUID = Field(primary_key=True, foreign_key="alerts.id")
    audience: str = Field(primary_key=True, max_length=64)


class AlertTag(SQLModel, table=True):
    __tablename__ = "alert_tags"
    __table_args__ = (Index("ix_alert_tags_alert_id", "alert_id"),)

    field: str = Field(primary_key=True, max_length=32)
    tag: str = Field(primary_key=True, max_length=64)
    alert_id: uuid.UUID = Field(primary_key=True, foreign_key="alerts.id")


class AlertVersionRecord(SQLModel, table=True):
    __tablename__ = "alert_versions"

    alert_id: uuid.UUID = Field(primary_key=True, foreign_key="alerts.id")
    version: int = Field(primary_key=True)
    event: str = Field(max_length=16, nullable=False)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    agency_id: uuid.UUID = Field(nullable=False)
    subject: str = Field(max_length=255, nullable=False)
    client_id: str = Field(max_length=64, nullable=False)
    changes: list[dict[str, Any]] = Field(sa_type=JSON, nullable=False)


class IdempotencyKey(SQLModel, table=True):
    """A client's ``Idempotency-Key`` and the answer it got, so a retry gets the same answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    client_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64, nullable=False)
    alert_id: uuid.UUID | None = Field(default=None, foreign_key="alerts.id", nullable=True)
    """The alert the first answer created (a batch: its first; none if it stored nothing)."""
    response: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
