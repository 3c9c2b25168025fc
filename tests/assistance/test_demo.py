"""``exchange-api init --demo`` seeds an open, an answered and an overdue request, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from exchange_api.cli import main as exchange_api
from exchange_api.kit.clock import Clock
from tests.assistance.helpers import REQUESTS


def test_init_demo_seeds_an_open_an_answered_and_an_overdue_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "exchange.db"
    monkeypatch.setenv("EXCHANGE_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", f"sqlite:///{database}")

    assert exchange_api(["init", "--demo"]) == 0
    assert json.loads(capsys.readouterr().out)["demo"]["requests_created"] == 3
    assert exchange_api(["init", "--demo"]) == 0
    assert json.loads(capsys.readouterr().out)["demo"]["requests_created"] == 0

    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(select(REQUESTS).order_by(REQUESTS.c.id)).all()
    engine.dispose()
    today = Clock().today()
    assert len(rows) == 3
    states = sorted(
        "answered" if row.outcome == "answered" else ("overdue" if row.due_by < today else "open")
        for row in rows
    )
    assert states == ["answered", "open", "overdue"]
    assert all(row.sealed_message is not None for row in rows)
    assert {row.kind for row in rows} == {"backtracking", "judicial_use", "information"}
