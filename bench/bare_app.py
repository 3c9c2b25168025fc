"""The bare baseline: the same alert API with nothing of what makes the exchange secure.

A minimal FastAPI + SQLModel app that a competent developer would write for the same job: it
validates the body's shape with plain pydantic types and stores the alert JSON in plain text,
with the few columns search needs, indexed. No authentication, no encryption, no blind indexes,
no audit, no domain checks (CAS or container check digits, ISO codes). Everything else is kept
equal so that the secure/bare ratio measures the cost of security and nothing else: the same
database server, the same uvicorn workers, sync sessions with one transaction per request, the
same page size and keyset pagination (newest first by UUIDv7, no OFFSET, no COUNT).

Run it as the benchmark does::

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/db \
        uvicorn bench.bare_app:create_app --factory --workers 2
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    ForeignKey,
    Index,
    create_engine,
    distinct,
    event,
    func,
    insert,
)
from sqlalchemy.orm import registry, sessionmaker
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, col, select
from uuid_utils.compat import uuid7

from exchange_api.alerts.vocabulary import KILOGRAMS_PER_UNIT, LITRES_PER_UNIT
from exchange_api.reference.catalogue import catalogue_keys

__all__ = ["create_app", "create_schema", "metadata"]

PAGE_LIMIT_MAX = 200
BATCH_MAX = 500
STATS_MIN_CELL = 5
"""The exchange's default: a network-scope cell needs this many alerts to be published."""
EMERGING_MIN_ALERTS = 3
_FACTS = (
    "incident_type",
    "status",
    "detected_on",
    "review_by",
    "substances",
    "route",
    "handling",
    "distribution",
)

# Its own registry: importing this module must not add tables to the exchange's metadata
# (which Alembic compares with the migrations).
_registry = registry()
metadata = _registry.metadata


class _BareModel(SQLModel, registry=_registry):
    pass


class BareAlert(_BareModel, table=True):
    __tablename__ = "bare_alerts"
    # (filter, id): a page of the newest alerts for a route is one index range, at any depth.
    __table_args__ = (
        Index("ix_bare_alerts_origin_id", "origin", "id"),
        Index("ix_bare_alerts_destination_id", "destination", "id"),
    )

    id: uuid.UUID = SQLField(default_factory=uuid7, primary_key=True)
    origin: str = SQLField(max_length=2)
    destination: str = SQLField(max_length=2)
    detected_on: date
    created_at: datetime = SQLField(default_factory=lambda: datetime.now(UTC))
    body: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))


class BareAlertSubstance(_BareModel, table=True):
    """One row per (substance, alert): the primary key is the search index, newest first. The
    quantities, added up in kilograms and litres, are what statistics sum."""

    __tablename__ = "bare_alert_substances"

    cas: str = SQLField(max_length=12, primary_key=True)
    alert_id: uuid.UUID = SQLField(sa_column=Column(ForeignKey("bare_alerts.id"), primary_key=True))
    quantity_kg: float | None = None
    quantity_l: float | None = None


class BareAlertParty(_BareModel, table=True):
    """One row per (party name, alert), in plain text: what the blind index replaces."""

    __tablename__ = "bare_alert_parties"

    name: str = SQLField(max_length=300, primary_key=True)
    alert_id: uuid.UUID = SQLField(sa_column=Column(ForeignKey("bare_alerts.id"), primary_key=True))


class BareFollowUp(_BareModel, table=True):
    """A follow-up in plain text, found by (alert, id): its alert's follow-ups oldest first."""

    __tablename__ = "bare_followups"
    __table_args__ = (Index("ix_bare_followups_alert_id_id", "alert_id", "id"),)

    id: uuid.UUID = SQLField(default_factory=uuid7, primary_key=True)
    alert_id: uuid.UUID = SQLField(sa_column=Column(ForeignKey("bare_alerts.id"), nullable=False))
    created_at: datetime = SQLField(default_factory=lambda: datetime.now(UTC))
    body: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))


# --- the body: the exchange format's shape, with plain types ----------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Substance(_Strict):
    cas: str = Field(max_length=12)
    quantity: float = Field(gt=0)
    unit: str = Field(max_length=8)
    concentration_pct: float | None = Field(default=None, ge=0, le=100)


class Route(_Strict):
    origin: str = Field(min_length=2, max_length=2)
    transit: list[str] = Field(default_factory=list, max_length=20)
    destination: str = Field(min_length=2, max_length=2)
    port_of_loading: str | None = Field(default=None, max_length=5)
    port_of_discharge: str | None = Field(default=None, max_length=5)
    transport_mode: str | None = Field(default=None, max_length=10)


class Party(_Strict):
    role: str = Field(max_length=30)
    name: str = Field(max_length=300)
    country: str | None = Field(default=None, max_length=2)
    identifier: str | None = Field(default=None, max_length=100)


class Document(_Strict):
    kind: str = Field(max_length=40)
    number: str = Field(max_length=100)


class Person(_Strict):
    category: str = Field(max_length=20)
    role: str | None = Field(default=None, max_length=200)
    name: str = Field(max_length=300)
    date_of_birth: date | None = None
    nationality: str | None = Field(default=None, max_length=2)
    identity_document: str | None = Field(default=None, max_length=100)


class Handling(_Strict):
    code: str = Field(max_length=2)
    restrictions: str | None = Field(default=None, max_length=1000)
    source_reliability: str = Field(max_length=1)
    information_reliability: str = Field(max_length=1)
    tlp: str = Field(max_length=12)


class Distribution(_Strict):
    scope: Literal["network", "kinds", "agencies"]
    kinds: list[str] = Field(default_factory=list)
    agencies: list[uuid.UUID] = Field(default_factory=list)


class AlertIn(_Strict):
    incident_type: str = Field(max_length=40)
    status: str = Field(default="open", max_length=40)
    detected_on: date
    reference: str | None = Field(default=None, max_length=100)
    substances: list[Substance] = Field(min_length=1, max_length=50)
    route: Route
    parties: list[Party] = Field(default_factory=list, max_length=50)
    documents: list[Document] = Field(default_factory=list, max_length=50)
    persons: list[Person] = Field(default_factory=list, max_length=50)
    narrative: str | None = Field(default=None, max_length=20_000)
    contact: str | None = Field(default=None, max_length=500)
    handling: Handling
    distribution: Distribution
    review_by: date | None = None


class FollowUpIn(_Strict):
    kind: str = Field(max_length=32)
    occurred_on: date
    summary: str = Field(min_length=1, max_length=20_000)
    reference: str | None = Field(default=None, max_length=100)
    seized: list[Substance] = Field(default_factory=list, max_length=50)
    arrests: int | None = Field(default=None, ge=0)
    corrects: uuid.UUID | None = None
    handling: Handling
    distribution: dict[str, Any] = Field(default_factory=lambda: {"scope": "alert"})


class BatchIn(_Strict):
    alerts: list[dict[str, Any]] = Field(min_length=1, max_length=BATCH_MAX)


# --- storage --------------------------------------------------------------------------------


def _engine(url: str) -> Engine:
    """The same pool the exchange uses on PostgreSQL; WAL and a busy timeout on SQLite."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_schema(url: str) -> None:
    """Create the baseline's tables (the benchmark calls this once, before starting workers)."""
    engine = _engine(url)
    metadata.create_all(engine)
    engine.dispose()


def _substance_lines(alert: AlertIn) -> list[dict[str, Any]]:
    """One row's values per distinct CAS number, its quantities added up by unit family."""
    lines: dict[str, dict[str, Any]] = {}
    for substance in alert.substances:
        line = lines.setdefault(
            substance.cas, {"cas": substance.cas, "quantity_kg": None, "quantity_l": None}
        )
        for column, factors in (
            ("quantity_kg", KILOGRAMS_PER_UNIT),
            ("quantity_l", LITRES_PER_UNIT),
        ):
            if substance.unit in factors:
                line[column] = (line[column] or 0.0) + substance.quantity * factors[substance.unit]
    return list(lines.values())


def _store(session: Session, alert: AlertIn) -> BareAlert:
    row = BareAlert(
        origin=alert.route.origin,
        destination=alert.route.destination,
        detected_on=alert.detected_on,
        body=alert.model_dump(mode="json", exclude_none=True),
    )
    session.add(row)
    session.add_all(BareAlertSubstance(alert_id=row.id, **line) for line in _substance_lines(alert))
    session.add_all(
        BareAlertParty(name=name, alert_id=row.id)
        for name in dict.fromkeys(p.name for p in alert.parties)
    )
    return row


@dataclass
class _BulkRows:
    """A batch's rows, written with one executemany per table (SQLAlchemy's bulk path)."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    substances: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)

    def add(self, alert: AlertIn) -> uuid.UUID:
        alert_id = uuid7()
        self.alerts.append(
            {
                "id": alert_id,
                "origin": alert.route.origin,
                "destination": alert.route.destination,
                "detected_on": alert.detected_on,
                "created_at": datetime.now(UTC),
                "body": alert.model_dump(mode="json", exclude_none=True),
            }
        )
        self.substances.extend({"alert_id": alert_id, **line} for line in _substance_lines(alert))
        self.parties.extend(
            {"name": name, "alert_id": alert_id}
            for name in dict.fromkeys(p.name for p in alert.parties)
        )
        return alert_id

    def insert(self, session: Session) -> None:
        for table, values in (
            ("bare_alerts", self.alerts),
            ("bare_alert_substances", self.substances),
            ("bare_alert_parties", self.parties),
        ):
            if values:
                session.execute(insert(metadata.tables[table]), values)


def _facts(row: BareAlert) -> dict[str, Any]:
    """The routing facts, as the exchange's search lists them (its ``AlertSummary``)."""
    facts = {key: row.body[key] for key in _FACTS if key in row.body}
    return {"id": str(row.id), "version": 1, "created_at": row.created_at.isoformat(), **facts}


def _whole(row: BareAlert) -> dict[str, Any]:
    return {"id": str(row.id), "version": 1, "created_at": row.created_at.isoformat(), **row.body}


def _receipt(row: BareAlert) -> dict[str, Any]:
    """What a create answers, as the exchange's ``AlertReceipt``."""
    return {
        "id": str(row.id),
        "version": 1,
        "created_at": row.created_at.isoformat(),
        "substances": row.body["substances"],
    }


# --- the app --------------------------------------------------------------------------------


def _month(session: Session) -> Any:
    """YYYY-MM of the detection date, in the database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(col(BareAlert.detected_on), "YYYY-MM")
    return func.strftime("%Y-%m", col(BareAlert.detected_on))


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent (as the exchange)."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def create_app() -> FastAPI:
    """The baseline app; its database comes from ``BENCH_DATABASE_URL``."""
    engine = _engine(os.environ["BENCH_DATABASE_URL"])
    app = FastAPI(title="Bare baseline")
    app.state.session_factory = sessionmaker(engine, class_=Session, expire_on_commit=False)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/alerts", status_code=201)
    def create_alert(alert: AlertIn, session: SessionDep, response: Response) -> dict[str, Any]:
        row = _store(session, alert)
        session.flush()
        response.headers["Location"] = f"/v1/alerts/{row.id}"
        return _receipt(row)

    @app.post("/v1/alerts/batch")
    def create_alerts(batch: BatchIn, session: SessionDep) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        rows = _BulkRows()
        for index, raw in enumerate(batch.alerts):
            try:
                alert = AlertIn.model_validate(raw)
            except ValueError:
                results.append({"index": index, "error": {"status": 422}})
                continue
            results.append({"index": index, "id": str(rows.add(alert))})
        rows.insert(session)
        return {"results": results}

    @app.get("/v1/alerts/{alert_id}")
    def read_alert(alert_id: uuid.UUID, session: SessionDep) -> dict[str, Any]:
        row = session.get(BareAlert, alert_id)
        if row is None:
            raise HTTPException(status_code=404)
        return _whole(row)

    @app.post("/v1/alerts/{alert_id}/followups", status_code=201)
    def create_followup(
        alert_id: uuid.UUID, followup: FollowUpIn, session: SessionDep, response: Response
    ) -> dict[str, Any]:
        if session.get(BareAlert, alert_id) is None:
            raise HTTPException(status_code=404)
        row = BareFollowUp(alert_id=alert_id, body=followup.model_dump(mode="json"))
        session.add(row)
        session.flush()
        response.headers["Location"] = f"/v1/alerts/{alert_id}/followups/{row.id}"
        return {"id": str(row.id), "alert": str(alert_id), "created_at": row.created_at.isoformat()}

    @app.get("/v1/alerts/{alert_id}/followups")
    def list_followups(
        alert_id: uuid.UUID,
        session: SessionDep,
        cursor: uuid.UUID | None = None,
        limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 50,
    ) -> dict[str, Any]:
        if session.get(BareAlert, alert_id) is None:
            raise HTTPException(status_code=404)
        query = select(BareFollowUp).where(col(BareFollowUp.alert_id) == alert_id)
        if cursor is not None:
            query = query.where(col(BareFollowUp.id) > cursor)
        rows = session.exec(query.order_by(col(BareFollowUp.id)).limit(limit + 1)).all()
        page = rows[:limit]
        items = [
            {"id": str(row.id), "created_at": row.created_at.isoformat(), **row.body}
            for row in page
        ]
        return {"items": items, "next_cursor": str(page[-1].id) if len(rows) > limit else None}

    @app.get("/v1/statistics/alerts")
    def alert_statistics(
        session: SessionDep,
        group_by: Literal["substance", "month"],
        scope: Literal["visible", "network"] = "visible",
    ) -> dict[str, Any]:
        """Alerts and quantities per cell; without agencies, both scopes count every alert,
        and the network scope leaves out the small cells."""
        line = BareAlertSubstance
        key: Any = col(line.cas) if group_by == "substance" else _month(session)
        query = (
            select(
                key,
                func.count(distinct(col(BareAlert.id))),
                func.sum(col(line.quantity_kg)),
                func.sum(col(line.quantity_l)),
            )
            .select_from(BareAlert)
            .join(line, col(line.alert_id) == col(BareAlert.id))
            .group_by(key)
        )
        cells = [
            {"key": str(k), "alerts": int(n), "quantity_kg": kg, "quantity_l": litres}
            for k, n, kg, litres in session.execute(query)
        ]
        shown = [c for c in cells if scope == "visible" or c["alerts"] >= STATS_MIN_CELL]
        shown.sort(key=lambda c: (-c["alerts"], c["key"]))
        return {
            "scope": scope,
            "group_by": group_by,
            "items": shown,
            "suppressed": len(cells) - len(shown),
        }

    @app.get("/v1/statistics/emerging")
    def emerging_substances(
        session: SessionDep, days: Annotated[int, Query(ge=1, le=3660)] = 90
    ) -> dict[str, Any]:
        """Uncatalogued CAS numbers on enough alerts detected in the window."""
        alerts = func.count(distinct(col(BareAlert.id)))
        query = (
            select(
                col(BareAlertSubstance.cas),
                alerts,
                func.min(col(BareAlert.detected_on)),
                func.max(col(BareAlert.detected_on)),
            )
            .join(BareAlert, col(BareAlert.id) == col(BareAlertSubstance.alert_id))
            .where(
                col(BareAlert.detected_on) >= date.today() - timedelta(days=days),
                col(BareAlertSubstance.cas).not_in(sorted(catalogue_keys())),
            )
            .group_by(col(BareAlertSubstance.cas))
            .having(alerts >= EMERGING_MIN_ALERTS)
        )
        items = [
            {
                "cas": cas,
                "name": None,
                "alerts": int(n),
                "first_seen": first.isoformat(),
                "last_seen": last.isoformat(),
            }
            for cas, n, first, last in session.execute(query)
        ]
        items.sort(key=lambda item: (-item["alerts"], item["cas"]))
        return {"items": items}

    @app.get("/v1/alerts")
    def search_alerts(
        session: SessionDep,
        substance: str | None = None,
        origin: str | None = None,
        destination: str | None = None,
        party: str | None = None,
        cursor: uuid.UUID | None = None,
        limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 50,
    ) -> dict[str, Any]:
        query = select(BareAlert)
        # Keyset on the column of the index that serves the filter: PostgreSQL carries the
        # ORDER BY across the join's equality, but not the cursor's inequality.
        key: Any = col(BareAlert.id)
        if substance is not None:
            query = query.join(BareAlertSubstance).where(col(BareAlertSubstance.cas) == substance)
            key = col(BareAlertSubstance.alert_id)
        if party is not None:
            query = query.join(BareAlertParty).where(col(BareAlertParty.name) == party)
            key = col(BareAlertParty.alert_id)
        if origin is not None:
            query = query.where(col(BareAlert.origin) == origin)
        if destination is not None:
            query = query.where(col(BareAlert.destination) == destination)
        if cursor is not None:
            query = query.where(key < cursor)
        rows = session.exec(query.order_by(key.desc()).limit(limit + 1)).all()
        page = rows[:limit]
        next_cursor = str(page[-1].id) if len(rows) > limit else None
        return {"items": [_facts(row) for row in page], "next_cursor": next_cursor}

    return app
