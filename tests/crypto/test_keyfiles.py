from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from exchange_api.crypto import (
    KeyFileError,
    KeyMaterial,
    add_kek_version,
    ensure_keys,
    load_key_material,
)

TOP_LEVEL = ["token-signing.pem", "audit-signing.pem", "blind-index-root.key"]
ALL_KEY_FILES = [*TOP_LEVEL, "kek/0001.key"]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def contents(keys_dir: Path) -> dict[str, bytes]:
    return {name: (keys_dir / name).read_bytes() for name in ALL_KEY_FILES}


def pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def replace_key_file(path: Path, content: bytes) -> None:
    path.unlink()
    path.write_bytes(content)
    path.chmod(0o600)


def test_ensure_keys_creates_every_file_private_even_under_a_permissive_umask(
    tmp_path: Path,
) -> None:
    keys_dir = tmp_path / "keys"
    previous = os.umask(0)
    try:
        created = ensure_keys(keys_dir)
    finally:
        os.umask(previous)

    assert sorted(created) == sorted(keys_dir / name for name in ALL_KEY_FILES)
    assert mode_of(keys_dir) == 0o700
    assert mode_of(keys_dir / "kek") == 0o700
    for name in ALL_KEY_FILES:
        assert mode_of(keys_dir / name) == 0o600, name
    # Nothing else is left behind (no temporary files).
    assert sorted(p.name for p in keys_dir.iterdir()) == sorted([*TOP_LEVEL, "kek"])
    assert [p.name for p in (keys_dir / "kek").iterdir()] == ["0001.key"]


def test_ensure_keys_is_idempotent_and_never_overwrites(fresh_keys_dir: Path) -> None:
    before = contents(fresh_keys_dir)

    assert ensure_keys(fresh_keys_dir) == []
    assert contents(fresh_keys_dir) == before


def test_ensure_keys_fills_in_only_what_is_missing(fresh_keys_dir: Path) -> None:
    before = contents(fresh_keys_dir)
    (fresh_keys_dir / "audit-signing.pem").unlink()

    assert ensure_keys(fresh_keys_dir) == [fresh_keys_dir / "audit-signing.pem"]
    after = contents(fresh_keys_dir)
    assert after["audit-signing.pem"] != before["audit-signing.pem"]
    assert {k: v for k, v in after.items() if k != "audit-signing.pem"} == {
        k: v for k, v in before.items() if k != "audit-signing.pem"
    }


def test_ensure_keys_keeps_an_existing_key_even_if_it_is_bad(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    (keys_dir / "blind-index-root.key").write_bytes(b"operator's own key")

    created = ensure_keys(keys_dir)

    assert keys_dir / "blind-index-root.key" not in created
    assert (keys_dir / "blind-index-root.key").read_bytes() == b"operator's own key"


def test_load_key_material_returns_typed_keys(fresh_keys_dir: Path) -> None:
    material = load_key_material(fresh_keys_dir)

    assert isinstance(material.token_signing_key, ec.EllipticCurvePrivateKey)
    assert isinstance(material.token_signing_key.curve, ec.SECP256R1)
    assert isinstance(material.audit_signing_key, ed25519.Ed25519PrivateKey)
    assert dict(material.keks) == {1: (fresh_keys_dir / "kek/0001.key").read_bytes()}
    assert material.blind_index_root == (fresh_keys_dir / "blind-index-root.key").read_bytes()
    assert material.current_kek_version == 1


def test_key_material_repr_shows_no_secret(fresh_keys_dir: Path) -> None:
    material = load_key_material(fresh_keys_dir)
    text = repr(material)

    assert "kek_versions=[1]" in text
    for secret in [*material.keks.values(), material.blind_index_root]:
        assert secret.hex() not in text
        assert repr(secret) not in text


def test_key_material_keks_cannot_be_changed(fresh_keys_dir: Path) -> None:
    material = load_key_material(fresh_keys_dir)

    with pytest.raises(TypeError):
        material.keks[2] = bytes(32)  # type: ignore[index]


@pytest.mark.parametrize("name", ALL_KEY_FILES)
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_load_refuses_a_key_readable_by_group_or_others(
    fresh_keys_dir: Path, name: str, mode: int
) -> None:
    path = fresh_keys_dir / name
    path.chmod(mode)

    with pytest.raises(KeyFileError) as caught:
        load_key_material(fresh_keys_dir)

    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert f"readable by group or others (mode {mode:04o})" in message


def test_load_refuses_a_key_writable_by_others(fresh_keys_dir: Path) -> None:
    (fresh_keys_dir / "kek/0001.key").chmod(0o602)

    with pytest.raises(KeyFileError, match=r"accessible to group or others \(mode 0602\)"):
        load_key_material(fresh_keys_dir)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_load_names_a_missing_key_file(fresh_keys_dir: Path, name: str) -> None:
    (fresh_keys_dir / name).unlink()

    with pytest.raises(KeyFileError) as caught:
        load_key_material(fresh_keys_dir)

    assert str(caught.value).startswith(f"key file {fresh_keys_dir / name}: missing")
    assert "\n" not in str(caught.value)


def test_load_refuses_a_directory_without_any_kek(fresh_keys_dir: Path) -> None:
    (fresh_keys_dir / "kek/0001.key").unlink()

    with pytest.raises(KeyFileError, match=r"kek: missing"):
        load_key_material(fresh_keys_dir)


def test_load_refuses_an_absent_keys_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing"):
        load_key_material(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("kek/0001.key", bytes(31), "malformed: expected 32 bytes, found 31"),
        ("blind-index-root.key", bytes(33), "malformed: expected 32 bytes, found 33"),
        ("blind-index-root.key", b"", "malformed: expected 32 bytes, found 0"),
        ("token-signing.pem", b"-----BEGIN PRIVATE KEY-----\nnot base64\n", "malformed"),
        ("audit-signing.pem", b"\x00" * 64, "malformed"),
        ("token-signing.pem", bytes(1024 * 1024), "malformed: larger than"),
    ],
)
def test_load_refuses_malformed_keys(
    fresh_keys_dir: Path, name: str, content: bytes, reason: str
) -> None:
    replace_key_file(fresh_keys_dir / name, content)

    with pytest.raises(KeyFileError) as caught:
        load_key_material(fresh_keys_dir)

    assert str(caught.value).startswith(f"key file {fresh_keys_dir / name}: {reason}")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "key", "found"),
    [
        ("token-signing.pem", ed25519.Ed25519PrivateKey.generate(), "an Ed25519 private key"),
        ("token-signing.pem", ec.generate_private_key(ec.SECP384R1()), "an EC secp384r1"),
        ("audit-signing.pem", ec.generate_private_key(ec.SECP256R1()), "an EC secp256r1"),
    ],
)
def test_load_refuses_a_key_of_the_wrong_type(
    fresh_keys_dir: Path,
    name: str,
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    found: str,
) -> None:
    replace_key_file(fresh_keys_dir / name, pem(key))

    with pytest.raises(KeyFileError, match=f"wrong key type: expected .*, found {found}"):
        load_key_material(fresh_keys_dir)


def test_load_refuses_a_fifo_without_blocking(fresh_keys_dir: Path) -> None:
    path = fresh_keys_dir / "blind-index-root.key"
    path.unlink()
    os.mkfifo(path, 0o600)

    with pytest.raises(KeyFileError, match="not a regular file"):
        load_key_material(fresh_keys_dir)


def test_error_message_stays_on_one_line_whatever_the_path(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as caught:
        load_key_material(tmp_path / "odd\nname")

    assert "\n" not in str(caught.value)
    assert "odd\\nname" in str(caught.value)


def test_add_kek_version_adds_the_next_private_kek(fresh_keys_dir: Path) -> None:
    first = load_key_material(fresh_keys_dir)

    assert add_kek_version(fresh_keys_dir) == 2
    assert add_kek_version(fresh_keys_dir) == 3

    assert mode_of(fresh_keys_dir / "kek/0002.key") == 0o600
    rotated = load_key_material(fresh_keys_dir)
    assert rotated.current_kek_version == 3
    assert sorted(rotated.keks) == [1, 2, 3]
    assert rotated.keks[1] == first.keks[1]
    assert len(set(rotated.keks.values())) == 3
    assert ensure_keys(fresh_keys_dir) == []


def test_add_kek_version_continues_after_a_gap(fresh_keys_dir: Path) -> None:
    add_kek_version(fresh_keys_dir)
    (fresh_keys_dir / "kek/0001.key").unlink()  # retired after a full rewrap

    assert add_kek_version(fresh_keys_dir) == 3
    assert sorted(load_key_material(fresh_keys_dir).keks) == [2, 3]


def test_only_canonical_kek_names_are_loaded(fresh_keys_dir: Path) -> None:
    kek_dir = fresh_keys_dir / "kek"
    for stray in ["00002.key", ".0002.key.0123456789abcdef.tmp", "0003.key.bak", "0000.key"]:
        (kek_dir / stray).write_bytes(bytes(32))
        (kek_dir / stray).chmod(0o600)

    material = load_key_material(fresh_keys_dir)

    assert sorted(material.keks) == [1]
    assert add_kek_version(fresh_keys_dir) == 2


def test_key_material_needs_a_kek(fresh_keys_dir: Path) -> None:
    material = load_key_material(fresh_keys_dir)

    with pytest.raises(ValueError, match="at least one"):
        KeyMaterial(
            token_signing_key=material.token_signing_key,
            audit_signing_key=material.audit_signing_key,
            keks={},
            blind_index_root=material.blind_index_root,
        )
