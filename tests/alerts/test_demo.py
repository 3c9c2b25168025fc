"""The demo alerts: valid, linked to each other, seeded once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from exchange_api.alerts.demo import seed_demo_alerts
from exchange_api.audit.appender import AuditLog
from exchange_api.crypto import load_key_material
from exchange_api.models.agencies import Agency
from exchange_api.models.audit import AuditEntryRecord
from exchange_api.statistics.emerging import EmergingThresholds
from tests.alerts.conftest import Exchange


def test_demo_alerts_are_seeded_once_audited_and_link_up(
    exchange: Exchange, engine: Engine, keys_dir: Path
) -> None:
    callers = {kind: exchange.agency(kind) for kind in ("law_enforcement", "customs", "industry")}

    def seed(session: Session) -> list[str]:
        agencies = {
            f"demo-{kind}": session.get_one(Agency, caller.agency_id)
            for kind, caller in callers.items()
        }
        audit_log = AuditLog.from_settings(exchange.settings, load_key_material(keys_dir))
        return seed_demo_alerts(
            session,
            exchange.keyring,
            agencies,
            audit_log=audit_log,
            review_years=3,
            emerging=EmergingThresholds.of(exchange.settings),
        )

    assert len(exchange.run(seed)) == 24
    assert exchange.run(seed) == []
    police = callers["law_enforcement"]
    everything = exchange.search_all(police)
    assert len(everything) == 24
    assert exchange.search_all(police, substance=["5413-05-8"])  # not in the catalogue
    assert all(exchange.links(police, alert_id).linked_ids for alert_id in everything)
    exchange.run(exchange.audit_log.chain_all)  # as an auditor's read does first
    with engine.connect() as connection:
        entries = connection.execute(
            select(col(AuditEntryRecord.action), col(AuditEntryRecord.result_count)).where(
                col(AuditEntryRecord.action) == "alert.create"
            )
        ).all()
    assert [tuple(entry) for entry in entries] == [("alert.create", 8)] * 3
