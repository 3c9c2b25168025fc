"""Demo follow-ups for ``exchange-api init --demo``: one alert followed along the penal chain by
the demo agencies, so that follow-ups, ``stage`` and the history show something at once.

A shipment stopped by the demo customs is seized, backtracked to its exporter by the licensing
authority, investigated and two people arrested by the police (that arrest shown only to the
customs and the prosecution), prosecuted and sentenced. All of it is invented. Each follow-up
goes through the service (validated, sealed, audited as its agency's demo client).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from sqlmodel import Session, col, select

from exchange_api.alerts.demo import acting_for
from exchange_api.audit.appender import AuditLog
from exchange_api.crypto import Keyring
from exchange_api.followups import service
from exchange_api.followups.schemas import FollowUpCreate
from exchange_api.kit.clock import Clock
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.models.alerts import Alert

__all__ = ["seed_demo_followups"]

_HANDLING: Final = {
    "code": "H1",
    "source_reliability": "A",
    "information_reliability": "1",
    "tlp": "amber",
}

# (agency kind, days after detection, kind, summary, reference, extra members)
_CHAIN: Final[list[tuple[AgencyKind, int, str, str, str | None, dict[str, Any]]]] = [
    (
        AgencyKind.CUSTOMS,
        2,
        "seizure",
        "The stopped consignment was opened and seized: drums declared as industrial cleaner "
        "held the declared precursor.",
        "BE-SEIZ-DEMO-0001",
        {"seizure": True},
    ),
    (
        AgencyKind.LAW_ENFORCEMENT,
        4,
        "investigation_opened",
        "Investigation opened into the consignee and the broker named in the documents.",
        "NL-INV-DEMO-0042",
        {},
    ),
    (
        AgencyKind.REGULATORY,
        21,
        "backtracking_result",
        "Backtracked with the exporting country's authority: the exporter holds no licence "
        "for this substance and the end-user declaration was forged.",
        None,
        {},
    ),
    (
        AgencyKind.LAW_ENFORCEMENT,
        33,
        "arrest",
        "Two suspects arrested when collecting the replaced drums (controlled pick-up).",
        "NL-INV-DEMO-0042",
        {"arrests": 2, "narrowed": (AgencyKind.CUSTOMS, AgencyKind.PROSECUTION)},
    ),
    (
        AgencyKind.PROSECUTION,
        47,
        "prosecution_opened",
        "Both suspects charged with trafficking in scheduled precursors.",
        "FR-PARQUET-DEMO-117",
        {},
    ),
    (
        AgencyKind.PROSECUTION,
        160,
        "court_decision",
        "Sentenced at first instance: 6 and 4 years' imprisonment; the precursor is "
        "confiscated and destroyed.",
        "FR-TJ-DEMO-2026-0311",
        {},
    ),
]


def seed_demo_followups(
    session: Session,
    keyring: Keyring,
    agencies: Mapping[str, Agency],
    *,
    audit_log: AuditLog,
) -> list[str]:
    """Follow the demo customs' first network-wide alert along the chain, as the demo agencies
    (keyed by client id) would; call once, right after the demo alerts were reported. Returns
    the follow-up ids."""
    by_kind = {agency.kind: (client_id, agency) for client_id, agency in agencies.items()}
    customs = by_kind[AgencyKind.CUSTOMS][1]
    alert = session.exec(
        select(Alert)
        .where(
            col(Alert.reporting_agency_id) == customs.id, col(Alert.distribution_scope) == "network"
        )
        .order_by(col(Alert.id))
    ).first()
    if alert is None:
        return []
    clock = Clock()
    created: list[str] = []
    for kind, days, followup_kind, summary, reference, extra in _CHAIN:
        client_id, agency = by_kind[kind]
        caller, audit = acting_for(session, audit_log, client_id, agency)
        body: dict[str, Any] = {
            "kind": followup_kind,
            "occurred_on": min(alert.detected_on + timedelta(days=days), clock.today()),
            "summary": summary,
            "reference": reference,
            "handling": _HANDLING,
        }
        if extra.get("seizure"):
            line = alert.substances[0]
            body["seized"] = [{"cas": line["cas"], "quantity": 1150, "unit": "kg"}]
        if "arrests" in extra:
            body["arrests"] = extra["arrests"]
        if "narrowed" in extra:
            listed = [str(by_kind[listed_kind][1].id) for listed_kind in extra["narrowed"]]
            body["distribution"] = {"scope": "agencies", "agencies": listed}
        receipt = service.create_followup(
            session, keyring, clock, caller, alert.id, FollowUpCreate.model_validate(body), audit
        )
        created.append(str(receipt.id))
        audit.flush()
    return created
