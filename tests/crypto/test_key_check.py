"""Key-check values prove a key is the same one without revealing it."""

from __future__ import annotations

from pathlib import Path

from exchange_api.crypto import (
    add_kek_version,
    blind_index_check,
    blind_index_check_matches,
    ensure_keys,
    kek_canary,
    kek_canary_opens,
    load_key_material,
)


def test_a_canary_opens_only_with_its_own_kek_and_version(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "a")
    ensure_keys(tmp_path / "b")
    add_kek_version(tmp_path / "a")
    a, b = load_key_material(tmp_path / "a"), load_key_material(tmp_path / "b")
    canary = kek_canary(a, 1)

    assert kek_canary_opens(a, 1, canary)
    assert not kek_canary_opens(b, 1, canary)
    assert not kek_canary_opens(a, 2, canary)
    assert not kek_canary_opens(a, 1, canary[:-1] + bytes([canary[-1] ^ 1]))
    assert not kek_canary_opens(a, 1, b"")
    assert kek_canary(a, 1) != canary  # fresh each time
    assert a.keks[1] not in canary


def test_the_blind_index_check_tells_roots_apart(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "a")
    ensure_keys(tmp_path / "b")
    a, b = load_key_material(tmp_path / "a"), load_key_material(tmp_path / "b")

    assert blind_index_check_matches(a, blind_index_check(a))
    assert not blind_index_check_matches(b, blind_index_check(a))
    assert blind_index_check(a) != a.blind_index_root
