"""Demo alerts for ``exchange-api init --demo``: a few dozen that make searches and links show
something — recurring companies, containers, air waybills and a courier across alerts of
different agencies, substances and routes, including a precursor the catalogue does not list.

All names, numbers and people are invented. They go through the same service as an agency's
batch (validated, sealed, indexed), each agency's alerts as one batch with its ``alert.create``
audit entry, in the caller's transaction. Deterministic: the same alerts every time, and none if
the demo agencies already reported any.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from sqlmodel import Session, col, select

from exchange_api.alerts import service
from exchange_api.alerts.schemas import BatchCreate
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.models.alerts import Alert
from exchange_api.statistics.emerging import EmergingThresholds

__all__ = ["acting_for", "demo_alert_bodies", "seed_demo_alerts"]

_HANDLING: Final = {"code": "H2", "source_reliability": "B", "information_reliability": "2"}

# Each case: (substances, route, parties, documents) — the people and narrative come below.
_CASES: Final[list[dict[str, Any]]] = [
    {  # BMK by sea through Turkey and Bulgaria; the same exporter and container recur
        "substances": [{"cas": "103-79-7", "quantity": 1200, "unit": "kg"}],
        "route": {
            "origin": "CN",
            "transit": ["TR", "BG"],
            "destination": "NL",
            "port_of_loading": "CNSHA",
            "port_of_discharge": "NLRTM",
            "transport_mode": "sea",
        },
        "parties": [
            {
                "role": "exporter",
                "name": "Example Chemical Trading Co.",
                "country": "CN",
                "identifier": "91310000MA1FL0XX",
            },
            {"role": "consignee", "name": "Lowlands Solvents B.V.", "country": "NL"},
        ],
        "documents": [
            {"kind": "container", "number": "CSQU3054383"},
            {"kind": "bill_of_lading", "number": "SHA-RTM-778812"},
        ],
    },
    {  # APAA declared as a food additive, brokered from the Gulf
        "substances": [{"cas": "4433-77-6", "quantity": 2500, "unit": "kg"}],
        "route": {
            "origin": "CN",
            "transit": ["AE"],
            "destination": "BE",
            "port_of_loading": "CNNGB",
            "port_of_discharge": "BEANR",
            "transport_mode": "sea",
        },
        "parties": [
            {
                "role": "broker",
                "name": "Golden Route Logistics FZE",
                "country": "AE",
                "identifier": "JAFZA-17734",
            },
            {"role": "consignee", "name": "Scheldt Food Ingredients BV", "country": "BE"},
        ],
        "documents": [{"kind": "container", "number": "MSKU9070323"}],
    },
    {  # fentanyl precursors by air to Mexico
        "substances": [
            {"cas": "23056-29-3", "quantity": 25, "unit": "kg"},
            {"cas": "125541-22-2", "quantity": 40, "unit": "kg"},
        ],
        "route": {"origin": "CN", "transit": ["DE"], "destination": "MX", "transport_mode": "air"},
        "parties": [
            {
                "role": "freight_forwarder",
                "name": "Pacific Air Cargo Services Ltd",
                "country": "HK",
                "identifier": "HK-CR-2291044",
            },
            {"role": "consignee", "name": "Quimica del Norte SA de CV", "country": "MX"},
        ],
        "documents": [{"kind": "air_waybill", "number": "176-48812336"}],
    },
    {  # acetic anhydride ordered by a new customer for an unclear end use
        "substances": [{"cas": "108-24-7", "quantity": 18, "unit": "t", "concentration_pct": 99.5}],
        "route": {"origin": "DE", "transit": ["TR"], "destination": "AF", "transport_mode": "road"},
        "parties": [
            {"role": "buyer", "name": "Kabul Agro Trading Company", "country": "AF"},
            {
                "role": "broker",
                "name": "Golden Route Logistics FZE",
                "country": "AE",
                "identifier": "JAFZA-17734",
            },
        ],
        "documents": [
            {"kind": "export_authorisation", "number": "DE-EXP-2026-00417"},
            {"kind": "vehicle_registration", "number": "34 ABC 991"},
        ],
    },
    {  # pseudoephedrine tablets, transhipped
        "substances": [
            {"cas": "90-82-4", "quantity": 300, "unit": "kg"},
            {"cas": "299-42-3", "quantity": 120, "unit": "kg"},
        ],
        "route": {
            "origin": "IN",
            "transit": ["AE"],
            "destination": "ZA",
            "port_of_loading": "INNSA",
            "port_of_discharge": "ZADUR",
            "transport_mode": "sea",
        },
        "parties": [
            {
                "role": "exporter",
                "name": "Mumbai Pharma Exports Pvt Ltd",
                "country": "IN",
                "identifier": "AABCM1234F",
            }
        ],
        "documents": [
            {"kind": "container", "number": "TGHU5123453"},
            {"kind": "pre_export_notification", "number": "PEN-IN-2026-5521"},
        ],
    },
    {  # PMK glycidate esters into Rotterdam and Antwerp
        "substances": [{"cas": "13605-48-6", "quantity": 800, "unit": "kg"}],
        "route": {
            "origin": "CN",
            "destination": "NL",
            "port_of_loading": "CNTAO",
            "port_of_discharge": "NLRTM",
            "transport_mode": "sea",
        },
        "parties": [
            {
                "role": "exporter",
                "name": "Qingdao Fine Chemicals Co Ltd",
                "country": "CN",
                "identifier": "91370200MA3C5Q8X2K",
            },
            {"role": "consignee", "name": "Lowlands Solvents B.V.", "country": "NL"},
        ],
        "documents": [{"kind": "container", "number": "CMAU7319041"}],
    },
    {  # a pre-precursor the catalogue does not list (early warning) next to a listed one
        "substances": [
            {"cas": "5413-05-8", "quantity": 600, "unit": "kg"},
            {"cas": "4468-48-8", "quantity": 50, "unit": "kg"},
        ],
        "route": {"origin": "CN", "transit": ["PL"], "destination": "DE", "transport_mode": "rail"},
        "parties": [
            {
                "role": "exporter",
                "name": "Example Chemical Trading Co.",
                "country": "CN",
                "identifier": "91310000MA1FL0XX",
            },
            {"role": "importer", "name": "Oder Chemiehandel GmbH", "country": "DE"},
        ],
        "documents": [{"kind": "container", "number": "OOLU1802116"}],
    },
    {  # potassium permanganate for cocaine processing
        "substances": [{"cas": "7722-64-7", "quantity": 5, "unit": "t"}],
        "route": {
            "origin": "IN",
            "destination": "CO",
            "port_of_loading": "INNSA",
            "port_of_discharge": "COCTG",
            "transport_mode": "sea",
        },
        "parties": [
            {
                "role": "exporter",
                "name": "Mumbai Pharma Exports Pvt Ltd",
                "country": "IN",
                "identifier": "AABCM1234F",
            }
        ],
        "documents": [{"kind": "container", "number": "TCNU4687328"}],
    },
]

_COURIER: Final = {
    "category": "suspect",
    "role": "courier",
    "name": "Viktor Aleksandrov",
    "date_of_birth": "1979-06-14",
    "nationality": "BG",
}
_PEOPLE: Final = [
    {
        "category": "contact",
        "role": "consignee contact",
        "name": "Jan de Vries",
        "date_of_birth": "1980-01-01",
        "nationality": "NL",
    },
    {
        "category": "suspect",
        "role": "buyer's representative",
        "name": "Ahmed Karimi",
        "date_of_birth": "1974-03-22",
        "nationality": "AF",
    },
    {
        "category": "witness",
        "role": "warehouse clerk",
        "name": "Maria Lopez",
        "date_of_birth": "1991-11-05",
        "nationality": "ES",
    },
]
_INCIDENTS: Final = {
    AgencyKind.LAW_ENFORCEMENT: ("seizure", "illicit_laboratory", "diversion"),
    AgencyKind.CUSTOMS: ("stopped_shipment", "suspended_shipment", "suspicious_shipment"),
    AgencyKind.REGULATORY: ("suspicious_order", "attempted_diversion"),
    AgencyKind.PROSECUTION: ("diversion", "seizure"),
    AgencyKind.INDUSTRY: ("suspicious_order", "suspicious_inquiry"),
}
_STATUSES: Final = ("open", "under_investigation", "backtracking", "referred_to_prosecution")
_DISTRIBUTIONS: Final = (
    {"scope": "network"},
    {"scope": "network"},
    {"scope": "kinds", "kinds": ["law_enforcement", "customs", "prosecution"]},
)
_ALERTS_PER_AGENCY: Final = 8


def demo_alert_bodies(kind: AgencyKind, country: str, start: int) -> list[dict[str, Any]]:
    """The demo alerts one agency reports, as it would send them."""
    # Not for secrets: a fixed seed, so that the demo is the same every time.
    rng = random.Random(f"{kind.value}-{start}")  # noqa: S311
    bodies = []
    for number in range(_ALERTS_PER_AGENCY):
        case = _CASES[(start + number) % len(_CASES)]
        persons = [] if kind is AgencyKind.INDUSTRY else [rng.choice(_PEOPLE)]
        if number % 5 == 0 and kind is not AgencyKind.INDUSTRY:
            persons.append(_COURIER)
        detected = date(2026, 1, 5) + timedelta(days=rng.randrange(300))
        bodies.append(
            {
                **case,
                "incident_type": rng.choice(_INCIDENTS[kind]),
                "status": rng.choice(_STATUSES),
                "detected_on": detected.isoformat(),
                "reference": f"{country}-{detected.year}-{rng.randrange(10_000):05d}",
                "persons": persons,
                "narrative": (
                    f"Demo alert {number + 1}: declared goods did not match the documents; "
                    "the consignee could not explain the intended use."
                ),
                "contact": f"Demo desk {start + number}, +00 000 {rng.randrange(10**6):06d}",
                "handling": {**_HANDLING, "tlp": rng.choice(("green", "amber"))},
                "distribution": (
                    {"scope": "network"}
                    if kind is AgencyKind.INDUSTRY
                    else rng.choice(_DISTRIBUTIONS)
                ),
            }
        )
    return bodies


def acting_for(
    session: Session, audit_log: AuditLog, client_id: str, agency: Agency
) -> tuple[Caller, AuditRecorder]:
    """The demo seed acting for ``agency`` through its demo client: the caller a token would
    give, and a recorder whose entries name the seed, the client and the agency."""
    caller = Caller(
        subject="demo-seed",
        client_id=client_id,
        agency_id=agency.id,
        agency_kind=agency.kind,
        scopes=frozenset(),
        token_id="",  # no token: the seed acts for the agency from the command line
    )
    seeder = AuditIdentity(actor=caller.subject, client_id=client_id, agency=str(agency.id))
    return caller, AuditRecorder.acting_as(audit_log, session, seeder)


def seed_demo_alerts(
    session: Session,
    keyring: Keyring,
    agencies: Mapping[str, Agency],
    *,
    audit_log: AuditLog,
    review_years: int,
    emerging: EmergingThresholds,
) -> list[str]:
    """Report the demo alerts of each demo agency (keyed by its client id), unless any of them
    already reported something, and record each batch in the audit log. Returns the ids."""
    ids = [agency.id for agency in agencies.values()]
    already = session.exec(select(col(Alert.id)).where(col(Alert.reporting_agency_id).in_(ids)))
    if already.first() is not None:
        return []
    created: list[str] = []
    offsets = itertools.count(0, 3)
    for client_id, agency in agencies.items():
        caller, audit = acting_for(session, audit_log, client_id, agency)
        bodies = demo_alert_bodies(agency.kind, agency.country, next(offsets))
        outcome = service.create_alerts(
            session,
            keyring,
            caller,
            BatchCreate(alerts=bodies),
            audit,
            review_years=review_years,
            emerging=emerging,
        )
        if len(outcome.created) != len(bodies):
            raise ValueError("a demo alert failed validation")
        created.extend(str(alert_id) for alert_id in outcome.created)
        audit.flush()
    return created
