"""Alert files: CSV rows a desk officer can fill, and NDJSON lines of alert bodies.

CSV: one row per alert, one column per field. Nested members are spelt with ``_``
(``route_origin``, ``handling_tlp``); lists of objects are numbered columns from 1
(``substance_1_cas``, ``substance_2_cas``, ``party_1_name``…), as many as a row needs; lists of
codes are one cell separated by ``;`` (``route_transit`` = ``TR;BG``). An empty cell is a field
left out. :data:`COLUMNS` documents each column; ``exchange template`` writes the header and one
example row, and :func:`row_to_alert` / :func:`alert_to_row` convert both ways.

Every row is read into an alert body; whether it is a *valid* alert is the server's to say, so a
row is refused here only when it cannot be read at all (an unknown column, a quantity that is not
a number).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "EXAMPLE",
    "GROUPS",
    "Row",
    "RowError",
    "alert_to_row",
    "check_header",
    "read_rows",
    "row_to_alert",
    "template",
]

#: Numbered groups: CSV prefix → (alert member, its fields).
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "substance": ("substances", ("cas", "quantity", "unit", "concentration_pct")),
    "party": ("parties", ("role", "name", "country", "identifier")),
    "document": ("documents", ("kind", "number", "issued_by")),
    "person": (
        "persons",
        ("category", "role", "name", "date_of_birth", "nationality", "identity_document"),
    ),
}
_OBJECTS = {
    "route": (
        "origin",
        "transit",
        "destination",
        "port_of_loading",
        "port_of_discharge",
        "transport_mode",
    ),
    "handling": ("code", "restrictions", "source_reliability", "information_reliability", "tlp"),
    "distribution": ("scope", "kinds", "agencies"),
}
_LISTS = {"route_transit", "distribution_kinds", "distribution_agencies"}
_NUMBERS = {"quantity", "concentration_pct"}
_PLAIN = (
    "incident_type",
    "status",
    "detected_on",
    "review_by",
    "reference",
    "narrative",
    "contact",
)
_NUMBERED = re.compile(r"^(substance|party|document|person)_([1-9][0-9]*)_([a-z_]+)$")

#: Every column, in template order, with what goes in it (``exchange template --help``).
COLUMNS: dict[str, str] = {
    "incident_type": "suspicious_order, suspicious_inquiry, suspicious_shipment, stopped_shipment, "
    "suspended_shipment, seizure, attempted_diversion, diversion, theft, illicit_laboratory",
    "status": "open (default), under_investigation, backtracking, referred_to_prosecution, "
    "closed_confirmed, closed_unfounded",
    "detected_on": "date detected, YYYY-MM-DD (required)",
    "review_by": "date by which the need to keep it is reviewed (default: detected_on + 3 years)",
    "reference": "your case number (sensitive)",
    "substance_N_cas": "CAS number of substance N (N = 1, 2, …; at least substance_1_cas)",
    "substance_N_quantity": "quantity of substance N (a number; with its unit)",
    "substance_N_unit": "mg, g, kg, t, ml, l or m3",
    "substance_N_concentration_pct": "concentration in percent (0-100]",
    "route_origin": "country of origin, ISO 3166-1 alpha-2",
    "route_transit": "transit countries, separated by ';' (TR;BG)",
    "route_destination": "country of destination",
    "route_port_of_loading": "UN/LOCODE (CNSHA)",
    "route_port_of_discharge": "UN/LOCODE (NLRTM)",
    "route_transport_mode": "sea, air, road, rail, post, courier, multimodal, unknown",
    "party_N_role": "exporter, importer, consignor, consignee, broker, freight_forwarder, carrier, "
    "manufacturer, buyer, other",
    "party_N_name": "company name (sensitive)",
    "party_N_country": "company's country",
    "party_N_identifier": "registration, tax or EORI number (sensitive)",
    "document_N_kind": "container, bill_of_lading, air_waybill, invoice, export_authorisation, "
    "import_authorisation, pre_export_notification, customs_declaration, vehicle_registration, "
    "other",
    "document_N_number": "document or ISO 6346 container number (sensitive)",
    "document_N_issued_by": "issuing country",
    "person_N_category": "suspect, convicted, victim, witness, contact, other",
    "person_N_role": "free text",
    "person_N_name": "name (sensitive)",
    "person_N_date_of_birth": "YYYY-MM-DD",
    "person_N_nationality": "ISO 3166-1 alpha-2",
    "person_N_identity_document": "identity document (sensitive)",
    "narrative": "free text (sensitive)",
    "contact": "officer's desk and phone (sensitive)",
    "handling_code": "H0, H1, H2 or H3 (required)",
    "handling_restrictions": "required with H3, only with it",
    "handling_source_reliability": "A, B, C, D or X (required)",
    "handling_information_reliability": "1, 2, 3 or 4 (required)",
    "handling_tlp": "clear, green, amber, amber+strict, red (required)",
    "distribution_scope": "network, kinds or agencies (required)",
    "distribution_kinds": "with scope kinds: agency kinds separated by ';'",
    "distribution_agencies": "with scope agencies: agency ids separated by ';'",
}

#: The template's example row (a valid alert).
EXAMPLE: dict[str, Any] = {
    "incident_type": "stopped_shipment",
    "status": "open",
    "detected_on": "2026-11-20",
    "reference": "NL-2026-00123",
    "substances": [{"cas": "103-79-7", "quantity": 1200, "unit": "kg"}],
    "route": {
        "origin": "CN",
        "transit": ["TR", "BG"],
        "destination": "NL",
        "port_of_discharge": "NLRTM",
        "transport_mode": "sea",
    },
    "parties": [
        {
            "role": "exporter",
            "name": "Example Chemical Trading Co.",
            "country": "CN",
            "identifier": "91310000MA1FL0XX",
        }
    ],
    "documents": [{"kind": "container", "number": "CSQU3054383"}],
    "narrative": "Declared as industrial cleaner.",
    "contact": "Rotterdam precursor desk",
    "handling": {
        "code": "H2",
        "source_reliability": "B",
        "information_reliability": "2",
        "tlp": "amber",
    },
    "distribution": {"scope": "network"},
}


class RowError(ValueError):
    """A row that cannot be read as an alert: ``column`` and what is wrong (never the value)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class Row:
    """One record of an alert file: its first line number, and the alert or why it is unusable.

    ``text``: an NDJSON record's JSON text as read, which is sent as it is (its value is
    ``alert``); a CSV record has none, its ``alert`` is encoded to be sent."""

    line: int
    alert: dict[str, Any] | None
    error: RowError | None = None
    text: str | None = None


def _number(column: str, text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise RowError(column, "not a number") from None
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def check_header(header: list[str]) -> None:
    """Refuse a header with a column this format does not have (a typo would lose data)."""
    for column in header:
        numbered = _NUMBERED.match(column)
        if numbered is not None:
            prefix, _, name = numbered.groups()
            if name in GROUPS[prefix][1]:
                continue
        elif column in _PLAIN:
            continue
        else:
            group, _, name = column.partition("_")
            if name in _OBJECTS.get(group, ()):
                continue
        raise RowError(
            column, "not a column of the alert CSV format (see exchange template --help)"
        )


def row_to_alert(row: Mapping[str, str]) -> dict[str, Any]:
    """An alert body from a CSV row (a header → cell mapping); empty cells are left out."""
    alert: dict[str, Any] = {}
    numbered: dict[str, dict[int, dict[str, Any]]] = {}
    for column, raw in row.items():
        text = (raw or "").strip()
        if not text:
            continue
        match = _NUMBERED.match(column)
        if match is not None:
            prefix, number, name = match.groups()
            value: Any = _number(column, text) if name in _NUMBERS else text
            numbered.setdefault(prefix, {}).setdefault(int(number), {})[name] = value
        elif column in _PLAIN:
            alert[column] = text
        else:
            group, _, name = column.partition("_")
            parts = [item.strip() for item in text.split(";") if item.strip()]
            alert.setdefault(group, {})[name] = parts if column in _LISTS else text
    for prefix, items in numbered.items():
        alert[GROUPS[prefix][0]] = [items[number] for number in sorted(items)]
    return alert


def alert_to_row(alert: Mapping[str, Any]) -> dict[str, str]:
    """The CSV cells of an alert body (the inverse of :func:`row_to_alert`)."""
    row: dict[str, str] = {}
    for name in _PLAIN:
        if alert.get(name) is not None:
            row[name] = str(alert[name])
    for group, names in _OBJECTS.items():
        for name in names:
            value = (alert.get(group) or {}).get(name)
            if value is not None:
                row[f"{group}_{name}"] = ";".join(value) if isinstance(value, list) else str(value)
    for prefix, (member, names) in GROUPS.items():
        for number, item in enumerate(alert.get(member) or [], start=1):
            for name in names:
                if item.get(name) is not None:
                    row[f"{prefix}_{number}_{name}"] = str(item[name])
    return row


def template() -> str:
    """A CSV header (every column, groups numbered 1) and the example row."""
    header = [column.replace("_N_", "_1_") for column in COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerow(alert_to_row(EXAMPLE))
    return out.getvalue()


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            return
        check_header([column.strip() for column in header])
        columns = [column.strip() for column in header]
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                yield Row(line, None, RowError("row", "more cells than the header has columns"))
                continue
            try:
                yield Row(line, row_to_alert(dict(zip(columns, cells, strict=False))))
            except RowError as error:
                yield Row(line, None, error)


def _ndjson_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as stream:
        for line, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                alert = json.loads(text)
            except ValueError:
                yield Row(line, None, RowError("line", "not JSON"))
                continue
            if isinstance(alert, dict):
                yield Row(line, alert, text=text.strip())
            else:
                yield Row(line, None, RowError("line", "not a JSON object"))


def read_rows(path: Path) -> Iterator[Row]:
    """The records of a ``.csv`` file, or of NDJSON (``.ndjson``, ``.jsonl``, ``.json``)."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    return _ndjson_rows(path)
