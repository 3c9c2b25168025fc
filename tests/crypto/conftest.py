"""Real key files in a fresh directory per test, and a keyring over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_api.crypto import LocalKeyring, ensure_keys, load_key_material


@pytest.fixture
def fresh_keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    ensure_keys(path)
    return path


@pytest.fixture
def keyring(fresh_keys_dir: Path) -> LocalKeyring:
    return LocalKeyring(load_key_material(fresh_keys_dir))
