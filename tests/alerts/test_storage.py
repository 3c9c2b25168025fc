"""At rest: no plaintext of a sensitive field anywhere in the database, and stored ciphertext
that was moved or altered fails closed."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select, text, update
from sqlmodel import Session, col

from exchange_api.alerts.sealing import attached_cipher
from exchange_api.crypto import IntegrityError, normalise_identifier, normalise_text
from exchange_api.models.alerts import Alert
from tests.alerts.builders import (
    CONTAINER,
    EXPORTER_NAME,
    SENSITIVE_VALUES,
    alert_body,
)
from tests.alerts.conftest import Exchange

PATCHED_NARRATIVE = "Second consignment traced to a warehouse in Tilburg-Noord."
PATCHED_PERSON = "Maria Fernanda Oliveira-Santos"


def _realistic_run(exchange: Exchange) -> None:
    """Agencies of every kind at work: pushes, a batch, a change, reads, searches, links."""
    police = exchange.agency("law_enforcement")
    customs = exchange.agency("customs", country="BE")
    regulator = exchange.agency("regulatory")
    exchange.agency("industry")
    first = exchange.create(police, alert_body())
    exchange.batch(customs, [alert_body(reference=f"BE-2026-{n:05d}") for n in range(5)])
    exchange.update(
        police,
        first.id,
        {
            "narrative": PATCHED_NARRATIVE,
            "persons": [{"category": "suspect", "name": PATCHED_PERSON, "nationality": "BR"}],
        },
        '"v1"',
    )
    exchange.read(customs, first.id)
    exchange.read(regulator, first.id)
    exchange.search(customs, party=EXPORTER_NAME.upper(), purpose="case BE-1")
    exchange.search(regulator, document=CONTAINER.lower(), purpose="licence review")
    exchange.links(customs, first.id)


def _needles() -> list[bytes]:
    """Every sensitive value, as written and in the normalised forms the indexes use."""
    values = [*SENSITIVE_VALUES, PATCHED_NARRATIVE, PATCHED_PERSON]
    forms = {v for value in values for v in (value, normalise_text(value))}
    forms |= {
        normalise_identifier(value) for value in values if len(normalise_identifier(value)) > 6
    }
    return [form.encode("utf-8") for form in forms]


def _table_contents(engine: Engine) -> list[bytes]:
    """Every value of every table, as bytes (ciphertext as it is, everything else as text)."""
    metadata = MetaData()
    metadata.reflect(engine)
    found: list[bytes] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        found.append(bytes(value))
                    elif value is not None:
                        found.append(str(value).encode("utf-8"))
    return found


def test_the_database_holds_no_plaintext_of_sensitive_fields(
    exchange: Exchange, engine: Engine, backend: str, database_url: str
) -> None:
    _realistic_run(exchange)
    contents = _table_contents(engine)
    # Positive control: routing facts are plain on purpose, so the scan does see stored text.
    assert any(b"CNSHA" in value for value in contents)
    for needle in _needles():
        assert not any(needle in value for value in contents), needle
    if backend == "sqlite":
        engine.dispose()
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [p.read_bytes() for p in path.parent.glob(path.name + "*")]
        assert any(b"CNSHA" in raw for raw in files)
        for needle in _needles():
            assert not any(needle in raw for raw in files), needle


def _read_sealed(engine: Engine, alert_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(select(Alert).where(col(Alert.id) == alert_id)).one()
    return dict(row._mapping)


def _overwrite(engine: Engine, alert_id: uuid.UUID, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(update(Alert).where(col(Alert.id) == alert_id).values(**values))


@pytest.mark.parametrize(
    ("source_field", "target_field", "same_alert"),
    [
        ("sealed_narrative", "sealed_narrative", False),  # another alert, same field
        ("sealed_narrative", "sealed_contact", True),  # same alert, another field
        ("sealed_parties", "sealed_documents", True),
        ("wrapped_dek", "wrapped_dek", False),  # another alert's data key
    ],
)
def test_ciphertext_moved_elsewhere_fails_to_open(
    exchange: Exchange, engine: Engine, source_field: str, target_field: str, same_alert: bool
) -> None:
    police = exchange.agency("law_enforcement")
    source = exchange.create(police, alert_body()).id
    target = source if same_alert else exchange.create(police, alert_body()).id
    moved = _read_sealed(engine, source)[source_field]
    _overwrite(engine, target, **{target_field: moved})
    with pytest.raises(IntegrityError):
        exchange.read(police, target)


@pytest.mark.parametrize("column", ["sealed_persons", "sealed_reference", "wrapped_dek"])
def test_a_flipped_bit_fails_closed(exchange: Exchange, engine: Engine, column: str) -> None:
    police = exchange.agency("law_enforcement")
    alert_id = exchange.create(police, alert_body()).id
    sealed = bytearray(_read_sealed(engine, alert_id)[column])
    sealed[len(sealed) // 2] ^= 0x01
    _overwrite(engine, alert_id, **{column: bytes(sealed)})
    with pytest.raises(IntegrityError) as raised:
        exchange.read(police, alert_id)
    assert raised.value.status == 500
    assert "decrypt" in raised.value.detail or "unwrap" in raised.value.detail


def test_a_group_the_caller_may_not_see_is_not_even_opened(
    exchange: Exchange, engine: Engine
) -> None:
    """A regulator's read never touches persons, narrative, reference or contact: even when
    those ciphertexts are destroyed, its read succeeds."""
    police = exchange.agency("law_enforcement")
    regulator = exchange.agency("regulatory")
    alert_id = exchange.create(police, alert_body()).id
    _overwrite(engine, alert_id, sealed_persons=b"x", sealed_narrative=b"x", sealed_contact=b"x")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alerts SET sealed_reference = :junk"), {"junk": b"\x01" * 40}
        )
    view = exchange.read(regulator, alert_id)
    assert view.fields == ("parties", "documents")
    assert view.alert.parties is not None
    with pytest.raises(IntegrityError):
        exchange.read(police, alert_id)


def test_attached_texts_are_bound_to_their_record_and_field(exchange: Exchange) -> None:
    """A text attached to an alert (a follow-up's summary) opens only at its own place."""
    police = exchange.agency("law_enforcement")
    alert_id = exchange.create(police, alert_body()).id
    other_id = exchange.create(police, alert_body()).id
    first, second = uuid.uuid4(), uuid.uuid4()

    def check(session: Session) -> None:
        row = session.get_one(Alert, alert_id)
        cipher = attached_cipher(exchange.keyring, row)
        sealed = cipher.seal("followup", first, "summary", b"seized at the border")
        assert b"seized" not in sealed
        assert cipher.open("followup", first, "summary", sealed) == b"seized at the border"
        for kind, record, field in (
            ("followup", second, "summary"),
            ("followup", first, "reference"),
            ("request", first, "summary"),
        ):
            with pytest.raises(IntegrityError):
                cipher.open(kind, record, field, sealed)
        elsewhere = attached_cipher(exchange.keyring, session.get_one(Alert, other_id))
        with pytest.raises(IntegrityError):
            elsewhere.open("followup", first, "summary", sealed)

    exchange.run(check)
