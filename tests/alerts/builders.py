"""Realistic alert bodies (valid check digits, real countries and ports) for the alert tests.

The values that must never reach the database in plaintext are collected in
:data:`SENSITIVE_VALUES`, so a test can look for each of them in the raw storage.
"""

from __future__ import annotations

import copy
from typing import Any

EXPORTER_NAME = "Example Chemical Trading Co."
EXPORTER_ID = "91310000MA1FL0XX"
CONSIGNEE_NAME = "Rotterdam Solvent Imports B.V."
CONTAINER = "CSQU3054383"
BILL_OF_LADING = "SHA-RTM-778812"
PERSON_NAME = "Jan Pieter de Vries-Kleinhout"
PERSON_DOB = "1980-01-01"
PASSPORT = "NXP4471902"
NARRATIVE = "Drums labelled as industrial cleaner; consignee unknown at the declared address."
REFERENCE = "NL-2026-00123"
CONTACT = "Desk 4, Rotterdam precursor team, +31 10 555 0199"

SENSITIVE_VALUES: tuple[str, ...] = (
    EXPORTER_NAME,
    EXPORTER_ID,
    CONSIGNEE_NAME,
    CONTAINER,
    BILL_OF_LADING,
    PERSON_NAME,
    PASSPORT,
    NARRATIVE,
    REFERENCE,
    CONTACT,
)

_EXAMPLE: dict[str, Any] = {
    "incident_type": "stopped_shipment",
    "status": "open",
    "detected_on": "2026-11-20",
    "reference": REFERENCE,
    "substances": [{"cas": "103-79-7", "quantity": 1200, "unit": "kg", "concentration_pct": 99.0}],
    "route": {
        "origin": "CN",
        "transit": ["TR", "BG"],
        "destination": "NL",
        "port_of_loading": "CNSHA",
        "port_of_discharge": "NLRTM",
        "transport_mode": "sea",
    },
    "parties": [
        {"role": "exporter", "name": EXPORTER_NAME, "country": "CN", "identifier": EXPORTER_ID},
        {"role": "consignee", "name": CONSIGNEE_NAME, "country": "NL"},
    ],
    "documents": [
        {"kind": "container", "number": CONTAINER},
        {"kind": "bill_of_lading", "number": BILL_OF_LADING},
    ],
    "persons": [
        {
            "category": "contact",
            "role": "consignee contact",
            "name": PERSON_NAME,
            "date_of_birth": PERSON_DOB,
            "nationality": "NL",
            "identity_document": PASSPORT,
        }
    ],
    "narrative": NARRATIVE,
    "contact": CONTACT,
    "handling": {
        "code": "H2",
        "source_reliability": "B",
        "information_reliability": "2",
        "tlp": "amber",
    },
    "distribution": {"scope": "network"},
}


def alert_body(**overrides: Any) -> dict[str, Any]:
    """The example alert of docs/contract.md §3, top-level members replaced by ``overrides``."""
    body = copy.deepcopy(_EXAMPLE)
    body.update(copy.deepcopy(overrides))
    return body


def minimal_body(**overrides: Any) -> dict[str, Any]:
    """An alert with only what is required: no sensitive group at all."""
    body: dict[str, Any] = {
        "incident_type": "suspicious_order",
        "detected_on": "2026-10-01",
        "substances": [{"cas": "4433-77-6"}],
        "handling": {
            "code": "H0",
            "source_reliability": "X",
            "information_reliability": "4",
            "tlp": "green",
        },
        "distribution": {"scope": "network"},
    }
    body.update(copy.deepcopy(overrides))
    return body
