"""The demo follows one alert along the penal chain, as different demo agencies, once."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from exchange_api.alerts import service as alerts
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.config import Settings
from exchange_api.crypto import LocalKeyring, ensure_keys, load_key_material
from exchange_api.db import make_session_factory
from exchange_api.demo import seed_demo
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.models.followups import FollowUp


def _caller(agency: Agency) -> Caller:
    return Caller(
        subject="analyst",
        client_id="demo-test",
        agency_id=agency.id,
        agency_kind=agency.kind,
        scopes=frozenset({"alerts:read"}),
        token_id="jti",
    )


def test_init_demo_adds_a_penal_chain_of_follow_ups_once(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    demo_settings = settings.model_copy(update={"keys_dir": keys_dir})

    assert seed_demo(demo_settings)["followups_created"] == 6
    assert seed_demo(demo_settings)["followups_created"] == 0

    material = load_key_material(keys_dir)
    keyring = LocalKeyring(material)
    log = AuditLog.from_settings(demo_settings, material)
    with make_session_factory(engine)() as session:
        rows = list(session.exec(select(FollowUp).order_by(col(FollowUp.id))))
        assert [row.kind for row in rows] == [
            "seizure",
            "investigation_opened",
            "backtracking_result",
            "arrest",
            "prosecution_opened",
            "court_decision",
        ]
        assert len({row.agency_id for row in rows}) == 4
        agencies = {agency.kind: agency for agency in session.exec(select(Agency))}
        alert_id = rows[0].alert_id
        seen = {
            kind: _read(session, keyring, log, _caller(agencies[kind]), alert_id)
            for kind in (AgencyKind.PROSECUTION, AgencyKind.REGULATORY)
        }
    assert seen[AgencyKind.PROSECUTION] == (6, "court_decision")
    assert seen[AgencyKind.REGULATORY] == (5, "court_decision")  # the arrest is narrowed


def _read(
    session: Session, keyring: LocalKeyring, log: AuditLog, caller: Caller, alert_id: uuid.UUID
) -> tuple[int, str | None]:
    audit = AuditRecorder.acting_as(log, session, AuditIdentity.of_caller(caller))
    view = alerts.read_alert(session, keyring, caller, alert_id, audit, purpose="demo")
    return view.alert.followups, view.alert.stage
