from __future__ import annotations

from pathlib import Path

import pytest

from exchange_api.crypto import (
    IntegrityError,
    LocalKeyring,
    WrappedDek,
    add_kek_version,
    ensure_keys,
    load_key_material,
    new_dek,
)

ALERT = "01890a5d-ac96-774b-bcce-b302099a8057"
OTHER_ALERT = "01890a5d-ac96-774b-bcce-b302099a8058"


def test_wrap_and_unwrap_round_trip(keyring: LocalKeyring) -> None:
    dek = new_dek()

    wrapped = keyring.wrap_dek(dek, alert_id=ALERT)

    assert wrapped.kek_version == keyring.current_kek_version == 1
    assert dek not in wrapped.blob
    assert keyring.unwrap_dek(wrapped, alert_id=ALERT) == dek


def test_wrapping_twice_gives_different_blobs(keyring: LocalKeyring) -> None:
    dek = new_dek()

    assert keyring.wrap_dek(dek, alert_id=ALERT) != keyring.wrap_dek(dek, alert_id=ALERT)


def test_wrapped_dek_is_bound_to_its_alert(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)

    with pytest.raises(IntegrityError):
        keyring.unwrap_dek(wrapped, alert_id=OTHER_ALERT)


def test_unknown_kek_version_fails_closed(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)

    with pytest.raises(IntegrityError):
        keyring.unwrap_dek(WrappedDek(99, wrapped.blob), alert_id=ALERT)


def test_every_flipped_bit_in_a_wrapped_dek_fails(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)

    for bit in range(len(wrapped.blob) * 8):
        blob = bytearray(wrapped.blob)
        blob[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(IntegrityError):
            keyring.unwrap_dek(WrappedDek(wrapped.kek_version, bytes(blob)), alert_id=ALERT)


@pytest.mark.parametrize("cut", [0, 1, 13, 60])
def test_truncated_wrapped_dek_fails(keyring: LocalKeyring, cut: int) -> None:
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)

    with pytest.raises(IntegrityError):
        keyring.unwrap_dek(WrappedDek(1, wrapped.blob[:cut]), alert_id=ALERT)


def test_wrap_refuses_a_dek_of_the_wrong_size(keyring: LocalKeyring) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        keyring.wrap_dek(bytes(16), alert_id=ALERT)


def test_after_rotation_new_wraps_use_the_new_kek_and_old_ones_still_unwrap(
    fresh_keys_dir: Path, keyring: LocalKeyring
) -> None:
    dek = new_dek()
    old = keyring.wrap_dek(dek, alert_id=ALERT)

    add_kek_version(fresh_keys_dir)
    rotated = LocalKeyring(load_key_material(fresh_keys_dir))
    new = rotated.wrap_dek(dek, alert_id=ALERT)

    assert rotated.current_kek_version == 2
    assert new.kek_version == 2
    assert rotated.unwrap_dek(old, alert_id=ALERT) == dek
    assert rotated.unwrap_dek(new, alert_id=ALERT) == dek
    # The KEK version is authenticated: a v1 blob relabelled v2 (or back) does not open.
    with pytest.raises(IntegrityError):
        rotated.unwrap_dek(WrappedDek(2, old.blob), alert_id=ALERT)
    with pytest.raises(IntegrityError):
        rotated.unwrap_dek(WrappedDek(1, new.blob), alert_id=ALERT)


def test_a_keyring_started_before_a_rotation_reads_the_new_kek_from_its_file(
    fresh_keys_dir: Path,
) -> None:
    started = LocalKeyring(load_key_material(fresh_keys_dir), keys_dir=fresh_keys_dir)
    without_dir = LocalKeyring(load_key_material(fresh_keys_dir))
    dek = new_dek()
    add_kek_version(fresh_keys_dir)
    wrapped = LocalKeyring(load_key_material(fresh_keys_dir)).wrap_dek(dek, alert_id=ALERT)

    assert started.unwrap_dek(wrapped, alert_id=ALERT) == dek
    assert started.current_kek_version == 1  # new DEKs stay under v1 until a restart
    with pytest.raises(IntegrityError):
        without_dir.unwrap_dek(wrapped, alert_id=ALERT)
    with pytest.raises(IntegrityError):  # still bound to its alert
        started.unwrap_dek(wrapped, alert_id=OTHER_ALERT)


def test_a_kek_file_others_can_read_or_that_is_missing_is_not_taken_late(
    fresh_keys_dir: Path,
) -> None:
    started = LocalKeyring(load_key_material(fresh_keys_dir), keys_dir=fresh_keys_dir)
    add_kek_version(fresh_keys_dir)
    wrapped = LocalKeyring(load_key_material(fresh_keys_dir)).wrap_dek(new_dek(), alert_id=ALERT)
    (fresh_keys_dir / "kek" / "0002.key").chmod(0o644)

    with pytest.raises(IntegrityError):
        started.unwrap_dek(wrapped, alert_id=ALERT)
    with pytest.raises(IntegrityError):
        started.unwrap_dek(WrappedDek(3, wrapped.blob), alert_id=ALERT)


def test_a_different_keyring_cannot_unwrap(keyring: LocalKeyring, tmp_path: Path) -> None:
    other_dir = tmp_path / "other-keys"
    ensure_keys(other_dir)
    other = LocalKeyring(load_key_material(other_dir))
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)

    with pytest.raises(IntegrityError):
        other.unwrap_dek(wrapped, alert_id=ALERT)


def test_blind_index_keys_are_per_field_and_stable_across_restarts(
    fresh_keys_dir: Path, keyring: LocalKeyring
) -> None:
    restarted = LocalKeyring(load_key_material(fresh_keys_dir))

    name_key = keyring.blind_index_key("party.name")

    assert len(name_key) == 32
    assert name_key == restarted.blind_index_key("party.name")
    assert name_key != keyring.blind_index_key("party.identifier")
    assert name_key != load_key_material(fresh_keys_dir).blind_index_root


def test_keyring_repr_shows_no_secret(fresh_keys_dir: Path, keyring: LocalKeyring) -> None:
    material = load_key_material(fresh_keys_dir)
    text = repr(keyring)

    assert material.keks[1].hex() not in text
    assert material.blind_index_root.hex() not in text
