"""Synthetic alerts for the benchmark: realistic shape and size, deterministic from a seed.

The bodies follow the exchange format (docs/contract.md §3) and pass the service's checks (CAS and
container check digits, ISO countries, UN/LOCODE ports), so the secure app stores them instead of
answering 422. Values are skewed the way real traffic is: a few substances and routes are common,
most are rare, which is what makes search by substance or route interesting at 1M alerts.
"""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from typing import Any

from exchange_api.reference.validators import container_check_digit

__all__ = [
    "COUNTRIES",
    "SUBSTANCES",
    "AlertFactory",
    "emerging_window_days",
    "party_name",
]

# Precursors from the reference catalogue, commonest first (P-2-P, APAA, acetic anhydride, ...),
# then two valid CAS numbers outside it: new substances are the point of early warning.
SUBSTANCES: tuple[str, ...] = (
    "103-79-7",
    "4433-77-6",
    "108-24-7",
    "19099-93-5",
    "21409-26-7",
    "299-42-3",
    "90-82-4",
    "94-59-7",
    "120-58-1",
    "4676-39-5",
    "16648-44-5",
    "28578-16-7",
    "13605-48-6",
    "41232-97-7",
    "25547-51-7",
    "80532-66-7",
    "7722-64-7",
    "67-64-1",
    "60-29-7",
    "7647-01-0",
    "78-93-3",
    "7664-93-9",
    "108-88-3",
    "110-89-4",
    "100-52-7",
    "50-00-0",
    "64-17-5",
)
COUNTRIES: tuple[str, ...] = (
    "CN",
    "IN",
    "NL",
    "BE",
    "DE",
    "MX",
    "TR",
    "BG",
    "PL",
    "ES",
    "FR",
    "IT",
    "US",
    "CA",
    "BR",
    "CO",
    "ZA",
    "NG",
    "AE",
    "PK",
    "IR",
    "AF",
    "MM",
    "LA",
    "TH",
    "VN",
    "MY",
    "SG",
    "KR",
    "JP",
)
_PORTS = ("SHA", "NGB", "TAO", "NSA", "RTM", "ANR", "HAM", "ZLO", "IST", "VAR", "GDN", "VLC")
_MODES = ("sea", "air", "road", "rail", "post")
_UNITS = ("kg", "l", "t")
_INCIDENTS = (
    "suspicious_order",
    "suspicious_shipment",
    "stopped_shipment",
    "seizure",
    "attempted_diversion",
)
_STATUSES = ("open", "under_investigation", "backtracking", "referred_to_prosecution")
_ROLES = ("exporter", "importer", "consignee", "freight_forwarder", "broker")
_WORDS = (
    "consignment declared as",
    "industrial solvent",
    "mislabelled drums",
    "paid in cash",
    "new customer",
    "transhipment without commercial reason",
    "quantity exceeds declared use",
    "end-user certificate missing",
    "forwarder changed twice",
    "routing through free zone",
)
# Detection dates lie in the past (the exchange refuses future ones).
_FIRST_DETECTION = date(2024, 1, 1)
_DETECTION_SPAN_DAYS = 600
_FIRST = ("Jan", "Li", "Maria", "Ahmed", "Olga", "Carlos", "Wei", "Fatima", "Pieter", "Anil")
_LAST = ("de Vries", "Zhang", "Garcia", "Khan", "Petrova", "Lopez", "Chen", "Ali", "Jansen")


EMERGING_WINDOW_DAYS = 90
"""The early warning's default window, placed at the end of the corpus's detection dates."""


def emerging_window_days(today: date) -> int:
    """``days`` for an early-warning query whose window holds the corpus's last 90 days of
    detections, as a real query holds the last 90 days of a longer history."""
    last = _FIRST_DETECTION + timedelta(days=_DETECTION_SPAN_DAYS - 1)
    return (today - last).days + EMERGING_WINDOW_DAYS


def party_name(index: int) -> str:
    """The name of company ``index`` of the pool; the same index always gives the same name."""
    return f"Bench Chemical Trading Co. {index:06d}"


def _skewed(rng: random.Random, values: tuple[str, ...]) -> str:
    """A value picked with roughly Zipf weights: the first few dominate, the tail is long."""
    return values[min(int(rng.paretovariate(1.2)) - 1, len(values) - 1)]


class AlertFactory:
    """Builds alert bodies of about 1.5 kB from one random stream.

    ``party_pool`` is how many distinct companies exist: with 1M alerts and 50,000 companies each
    company appears in about 40 alerts, so a party search returns a short list, as in real life.
    """

    def __init__(self, seed: int, party_pool: int = 50_000) -> None:
        self._rng = random.Random(seed)
        self.party_pool = party_pool

    def substance(self) -> str:
        return _skewed(self._rng, SUBSTANCES)

    def country(self) -> str:
        return _skewed(self._rng, COUNTRIES)

    def party(self) -> str:
        return party_name(self._rng.randrange(self.party_pool))

    def _container(self) -> str:
        rng = self._rng
        owner = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
        body = f"{owner}U{rng.randrange(1_000_000):06d}"
        return f"{body}{container_check_digit(body)}"

    def alert(self) -> dict[str, Any]:
        rng = self._rng
        origin = self.country()
        destination = self.country()
        detected = _FIRST_DETECTION + timedelta(days=rng.randrange(_DETECTION_SPAN_DAYS))
        substances = [
            {
                "cas": cas,
                "quantity": rng.randrange(1, 20_000),
                "unit": rng.choice(_UNITS),
                "concentration_pct": float(rng.randrange(50, 100)),
            }
            for cas in dict.fromkeys(self.substance() for _ in range(rng.choice((1, 1, 2))))
        ]
        return {
            "incident_type": rng.choice(_INCIDENTS),
            "status": rng.choice(_STATUSES),
            "detected_on": detected.isoformat(),
            "reference": f"{destination}-{detected.year}-{rng.randrange(100_000):05d}",
            "substances": substances,
            "route": {
                "origin": origin,
                "transit": [self.country() for _ in range(rng.randrange(3))],
                "destination": destination,
                "port_of_loading": f"{origin}{rng.choice(_PORTS)}",
                "port_of_discharge": f"{destination}{rng.choice(_PORTS)}",
                "transport_mode": rng.choice(_MODES),
            },
            "parties": [
                {
                    "role": role,
                    "name": self.party(),
                    "country": self.country(),
                    "identifier": f"{rng.randrange(10**12):012d}",
                }
                for role in rng.sample(_ROLES, 2)
            ],
            "documents": [
                {"kind": "container", "number": self._container()},
                {"kind": "bill_of_lading", "number": f"BL{rng.randrange(10**9):09d}"},
            ],
            "persons": [
                {
                    "category": "contact",
                    "role": "consignee contact",
                    "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                    "date_of_birth": (
                        date(1950, 1, 1) + timedelta(days=rng.randrange(18_000))
                    ).isoformat(),
                    "nationality": self.country(),
                }
            ],
            "narrative": "; ".join(rng.sample(_WORDS, 5)) + ".",
            "contact": f"Desk {rng.randrange(100)}, +31 10 {rng.randrange(10**6):06d}",
            "handling": {
                "code": "H2",
                "source_reliability": rng.choice("ABC"),
                "information_reliability": rng.choice("123"),
                "tlp": "amber",
            },
            "distribution": {"scope": "network"},
        }
