"""Token-signing key versions on disk, and which of them sign and are published over time."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from exchange_api.crypto import ensure_keys, load_key_material
from exchange_api.crypto.keyfiles import (
    KeyFileError,
    add_token_signing_version,
    token_signing_path,
    token_signing_versions,
)
from exchange_api.crypto.signing_keys import TokenSigningKeys

OVERLAP = 315.0


def public_numbers(key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePublicNumbers:
    return key.public_key().public_numbers()


def written_ago(keys_dir: Path, version: int, seconds: float) -> None:
    moment = time.time() - seconds
    os.utime(token_signing_path(keys_dir, version), (moment, moment))


def test_new_versions_are_private_files_beside_the_first(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    first = load_key_material(keys_dir).token_signing_key
    assert token_signing_versions(keys_dir) == [1]

    assert add_token_signing_version(keys_dir) == 2
    assert add_token_signing_version(keys_dir) == 3

    assert token_signing_versions(keys_dir) == [1, 2, 3]
    third = token_signing_path(keys_dir, 3)
    assert third == keys_dir / "token-signing" / "0003.pem"
    assert stat.S_IMODE(third.stat().st_mode) == 0o600
    newest = load_key_material(keys_dir).token_signing_key
    assert public_numbers(newest) != public_numbers(first)
    assert (keys_dir / "token-signing.pem").exists()  # version 1 is never replaced


def test_an_exposed_new_version_is_refused(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    add_token_signing_version(keys_dir)
    token_signing_path(keys_dir, 2).chmod(0o644)
    with pytest.raises(KeyFileError, match=r"0002\.pem: readable by group or others"):
        TokenSigningKeys(keys_dir, overlap=OVERLAP)


def test_the_newest_signs_and_older_ones_stay_published_for_the_overlap(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    for _ in range(3):
        add_token_signing_version(keys_dir)
    written_ago(keys_dir, 2, 3 * OVERLAP)  # 1 was replaced long ago
    written_ago(keys_dir, 3, 2 * OVERLAP)
    written_ago(keys_dir, 4, OVERLAP + 1)  # 3 was replaced just over the overlap ago: gone

    keys = TokenSigningKeys(keys_dir, overlap=OVERLAP)
    assert keys.signing.version == 4
    assert [key.version for key in keys.published()] == [4]

    add_token_signing_version(keys_dir)  # version 5, written now: 4 stays for the overlap
    keys.look_again(unless_within=0)
    assert keys.signing.version == 5
    assert [key.version for key in keys.published()] == [5, 4]
    assert "PRIVATE" not in repr(keys)
    assert "versions=[1, 2, 3, 4, 5]" in repr(keys)


def test_a_keyring_looks_for_new_versions_only_every_few_seconds(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    keys = TokenSigningKeys(keys_dir, overlap=OVERLAP)
    add_token_signing_version(keys_dir)
    assert keys.signing.version == 1  # looked at when built, less than 10 s ago
    keys.look_again(unless_within=0)
    assert keys.signing.version == 2
