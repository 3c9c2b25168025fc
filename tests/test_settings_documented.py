"""Every setting is in the README's settings table: an operator never has to read the code to
find one."""

from __future__ import annotations

from pathlib import Path

from exchange_api.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `EXCHANGE_")]
    assert table
    missing = [
        f"EXCHANGE_{name.upper()}"
        for name in Settings.model_fields
        if not any(f"`EXCHANGE_{name.upper()}`" in line for line in table)
    ]
    assert missing == []
