"""The alerts services on a real migrated database with real keys, one transaction per call.

``exchange`` plays the part of the HTTP layer for the service-level tests: each call runs in its
own session and commits, like a request does. Agencies are real rows; callers are what a verified
token would give.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.alerts import changes, links, service
from exchange_api.alerts.schemas import AlertCreate, AlertQuery, AlertReceipt, BatchCreate
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.config import Settings
from exchange_api.crypto import LocalKeyring, load_key_material
from exchange_api.db import create_db_engine, make_session_factory
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.statistics.emerging import EmergingThresholds

T = TypeVar("T")

_numbers = itertools.count(1)


@dataclass
class Exchange:
    factory: sessionmaker[Session]
    keyring: LocalKeyring
    settings: Settings
    audit_log: AuditLog
    callers: list[Caller] = field(default_factory=list)

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in its own committed transaction, as one request would."""
        with self.factory() as session:
            result = work(session)
            session.commit()
            return result

    def run_as(self, caller: Caller, work: Callable[[Session, AuditRecorder], T]) -> T:
        """Run ``work`` as one request of ``caller``: its audit entries go into the intake in
        the same transaction, just before the commit."""
        with self.factory() as session:
            audit = AuditRecorder.acting_as(
                self.audit_log, session, AuditIdentity.of_caller(caller)
            )
            result = work(session, audit)
            audit.flush()
            session.commit()
            return result

    def agency(self, kind: AgencyKind | str, country: str = "NL") -> Caller:
        number = next(_numbers)
        agency = Agency(name=f"{kind} agency {number}", country=country, kind=AgencyKind(kind))
        self.run(lambda s: s.add(agency))
        caller = Caller(
            subject=f"officer-{number}",
            client_id=f"client-{number}",
            agency_id=agency.id,
            agency_kind=AgencyKind(kind),
            scopes=frozenset({"alerts:read", "alerts:write"}),
            token_id=f"jti-{number}",
        )
        self.callers.append(caller)
        return caller

    def create(self, caller: Caller, body: dict[str, Any]) -> AlertReceipt:
        model = AlertCreate.model_validate(body)
        return self.run_as(
            caller,
            lambda s, audit: (
                service.create_alert(
                    s,
                    self.keyring,
                    caller,
                    model,
                    audit,
                    review_years=self.settings.alert_review_years,
                    emerging=EmergingThresholds.of(self.settings),
                ).receipt
            ),
        )

    def batch(
        self, caller: Caller, items: list[Any], *, key: str | None = None
    ) -> service.BatchOutcome:
        body = BatchCreate(alerts=items)
        return self.run_as(
            caller,
            lambda s, audit: service.create_alerts(
                s,
                self.keyring,
                caller,
                body,
                audit,
                review_years=self.settings.alert_review_years,
                emerging=EmergingThresholds.of(self.settings),
                idempotency_key=key,
            ),
        )

    def read(self, caller: Caller, alert_id: uuid.UUID) -> service.AlertView:
        return self.run_as(
            caller,
            lambda s, audit: service.read_alert(
                s, self.keyring, caller, alert_id, audit, purpose="test"
            ),
        )

    def search(
        self, caller: Caller, *, purpose: str | None = None, **query: Any
    ) -> service.SearchOutcome:
        model = AlertQuery.model_validate(query)
        return self.run_as(
            caller,
            lambda s, audit: service.search_alerts(
                s, self.keyring, caller, model, audit, purpose=purpose
            ),
        )

    def search_all(self, caller: Caller, **query: Any) -> list[uuid.UUID]:
        """Every id the search finds, page after page."""
        ids: list[uuid.UUID] = []
        cursor = None
        while True:
            outcome = self.search(caller, cursor=cursor, **query)
            ids.extend(outcome.ids)
            cursor = outcome.next_cursor
            if cursor is None:
                return ids

    def update(
        self, caller: Caller, alert_id: uuid.UUID, patch: dict[str, Any], if_match: str | None
    ) -> changes.ChangeOutcome:
        return self.run_as(
            caller,
            lambda s, audit: changes.update_alert(
                s,
                self.keyring,
                caller,
                alert_id,
                patch,
                audit,
                if_match=if_match,
                review_years=self.settings.alert_review_years,
                emerging=EmergingThresholds.of(self.settings),
            ),
        )

    def history(self, caller: Caller, alert_id: uuid.UUID) -> Any:
        return self.run_as(
            caller, lambda s, audit: service.alert_history(s, caller, alert_id, audit, purpose=None)
        )

    def links(self, caller: Caller, alert_id: uuid.UUID) -> links.LinksView:
        return self.run_as(
            caller,
            lambda s, audit: links.alert_links(
                s,
                self.keyring,
                caller,
                alert_id,
                audit,
                threshold=self.settings.links_common_threshold,
                purpose="test",
            ),
        )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def keyring(keys_dir: Path) -> LocalKeyring:
    return LocalKeyring(load_key_material(keys_dir))


@pytest.fixture
def exchange(engine: Engine, keys_dir: Path, keyring: LocalKeyring, settings: Settings) -> Exchange:
    audit_log = AuditLog.from_settings(settings, load_key_material(keys_dir))
    return Exchange(make_session_factory(engine), keyring, settings, audit_log)
