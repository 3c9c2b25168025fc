"""Demo data for ``exchange-api init --demo``: a populated exchange to try the API against.

One agency of each kind, each with a ``private_key_jwt`` client (ES256) named ``demo-<kind>``,
whose private key is written to ``keys/demo/<kind>.pem`` (mode 0600). Idempotent: running it again
adds nothing that is already there and never overwrites a key; a key file that no longer matches
the client registered in the database is reported, not replaced.

For development only: the demo private keys sit next to the service's own keys.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey
from sqlmodel import Session

from exchange_api.agencies import service
from exchange_api.agencies.authority import COMMAND_LINE
from exchange_api.agencies.repository import AgencyRepository
from exchange_api.agencies.schemas import AgencyCreate, ClientCreate
from exchange_api.alerts.demo import seed_demo_alerts
from exchange_api.assistance.demo import seed_demo_requests
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.operator import OperatorRecorder
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.scopes import Scope
from exchange_api.config import Settings
from exchange_api.crypto import KeyFileError, load_key_material
from exchange_api.crypto.providers import open_keyring
from exchange_api.db import create_db_engine, make_session_factory
from exchange_api.followups.demo import seed_demo_followups
from exchange_api.kit.clock import Clock
from exchange_api.models.agencies import Agency, AgencyKind, Client
from exchange_api.statistics.emerging import EmergingThresholds

__all__ = [
    "DEMO_AGENCIES",
    "DemoAgency",
    "demo_client_id",
    "demo_instructions",
    "demo_key_path",
    "load_demo_key",
    "seed_demo",
]


@dataclass(frozen=True, slots=True)
class DemoAgency:
    kind: AgencyKind
    name: str
    country: str
    scopes: tuple[Scope, ...]


_READ_WRITE = (Scope.ALERTS_READ, Scope.ALERTS_WRITE)
DEMO_AGENCIES = (
    DemoAgency(
        AgencyKind.LAW_ENFORCEMENT,
        "Demo National Police",
        "NL",
        (*_READ_WRITE, Scope.CLIENTS_ADMIN),
    ),
    DemoAgency(AgencyKind.CUSTOMS, "Demo Customs Administration", "BE", _READ_WRITE),
    DemoAgency(
        AgencyKind.REGULATORY,
        "Demo Precursor Licensing Authority",
        "DE",
        (*_READ_WRITE, Scope.AUDIT_READ),
    ),
    DemoAgency(AgencyKind.PROSECUTION, "Demo Public Prosecution Service", "FR", _READ_WRITE),
    DemoAgency(AgencyKind.INDUSTRY, "Demo Chemical Distributor", "NL", _READ_WRITE),
)


def demo_client_id(kind: AgencyKind) -> str:
    return "demo-" + kind.value.replace("_", "-")


def demo_key_path(keys_dir: Path, kind: AgencyKind) -> Path:
    return keys_dir / "demo" / f"{kind.value}.pem"


def _create_demo_key(path: Path) -> None:
    """Write a new EC P-256 private key, only if none exists (``O_EXCL``), readable by us only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = ECKey.generate_key("P-256").as_pem(private=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_demo_key(keys_dir: Path, kind: AgencyKind) -> ECKey:
    """The demo client's private key; refused if missing or readable by others."""
    path = demo_key_path(keys_dir, kind)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        pem = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(path, "missing (run `exchange-api init --demo`)") from None
    if mode & 0o077:
        raise KeyFileError(path, f"readable by group or others (mode {mode:04o}); chmod 600 it")
    return ECKey.import_key(pem)


def _ensure_agency(session: Session, demo: DemoAgency, audit: AuditRecorder) -> Agency:
    existing = AgencyRepository(session).agency_named(demo.name)
    if existing is not None:
        return existing
    data = AgencyCreate(name=demo.name, country=demo.country, kind=demo.kind)
    return service.register_agency(session, data, audit)


def _ensure_client(
    session: Session,
    demo: DemoAgency,
    agency: Agency,
    key: ECKey,
    key_path: Path,
    audit: AuditRecorder,
) -> Client:
    client_id = demo_client_id(demo.kind)
    public = key.as_dict(private=False)
    existing = AgencyRepository(session).get_client(client_id)
    if existing is None:
        data = ClientCreate(
            agency_id=agency.id,
            name=f"{demo.name} demo system",
            scopes=list(demo.scopes),
            jwks={"keys": [public]},
        )
        return service.register_client(
            session, data, audit, COMMAND_LINE, secrets_allowed=False, client_id=client_id
        ).client
    registered = json.loads(existing.jwks or '{"keys": []}')["keys"]
    if key.thumbprint() not in {entry.get("kid") for entry in registered}:
        raise KeyFileError(
            key_path,
            f"does not match the key of {client_id} in the database (a different keys folder?)",
        )
    return existing


def seed_demo(settings: Settings) -> dict[str, Any]:
    """Register the demo agencies and clients; returns what exists, for the command's JSON."""
    for demo in DEMO_AGENCIES:
        _create_demo_key(demo_key_path(settings.keys_dir, demo.kind))
    material = load_key_material(settings.keys_dir)
    audit_log = AuditLog.from_settings(settings, material)
    operator = OperatorRecorder(audit_log)
    engine = create_db_engine(settings)
    agencies = []
    reporters: dict[str, Agency] = {}
    try:
        with make_session_factory(engine).begin() as session:
            audit = operator.for_session(session)
            for demo in DEMO_AGENCIES:
                agency = _ensure_agency(session, demo, audit)
                key_path = demo_key_path(settings.keys_dir, demo.kind)
                key = load_demo_key(settings.keys_dir, demo.kind)
                client = _ensure_client(session, demo, agency, key, key_path, audit)
                agencies.append(
                    {
                        "kind": demo.kind.value,
                        "name": agency.name,
                        "agency_id": str(agency.id),
                        "client_id": client.client_id,
                        "scopes": client.scopes.split(),
                        "private_key": str(key_path),
                    }
                )
                reporters[client.client_id] = agency
            audit.flush()
            keyring = open_keyring(settings, material)
            alerts = seed_demo_alerts(
                session,
                keyring,
                reporters,
                audit_log=audit_log,
                review_years=settings.alert_review_years,
                emerging=EmergingThresholds.of(settings),
            )
            followups = (
                seed_demo_followups(session, keyring, reporters, audit_log=audit_log)
                if alerts
                else []
            )
            requests = (
                seed_demo_requests(
                    session,
                    keyring,
                    {agency.kind: agency for agency in reporters.values()},
                    audit_log=audit_log,
                    clock=Clock(),
                )
                if alerts
                else []
            )
    finally:
        engine.dispose()
    return {
        "database": settings.database.get_backend_name(),
        "agencies": agencies,
        "alerts_created": len(alerts),
        "followups_created": len(followups),
        "requests_created": len(requests),
    }


def demo_instructions(settings: Settings) -> str:
    """How to get a token with a demo client and call the API: copy-paste lines for a shell."""
    return "\n".join(
        [
            "Demo clients: demo-law-enforcement (also clients:admin), demo-customs, "
            "demo-regulatory (also audit:read), demo-prosecution, demo-industry.",
            "Once the server runs, get a token and call the API:",
            "  TOKEN=$(.venv/bin/python -m exchange_api.auth.demo_token customs)",
            '  curl -s -H "Authorization: Bearer $TOKEN" '
            f'"{settings.issuer}/v1/substances?q=ephedrine"',
            "Acting for an officer: add --officer NL-0042; other agencies: law_enforcement, "
            "regulatory, prosecution, industry.",
        ]
    )
