"""Key-check values: stored beside the data, they prove later that the keys are the same ones.

A database is only readable with the keys it was written with: a new KEK cannot unwrap the
stored data keys, and a new blind-index root derives other search tags, so every search by a
sealed value finds nothing. These values let the service notice at start, before it serves:

- per KEK version, a *canary*: 32 random bytes sealed with AES-256-GCM under that KEK, bound to
  a label and the version (associated data). Only that KEK opens it; it says nothing about the
  KEK (what it holds is random and thrown away).
- for the blind-index root, HMAC-SHA256 of a fixed label under the root key: equal roots give
  equal values; it cannot be turned back into the key, nor used to compute a search tag (those
  are made with keys derived under other labels, :mod:`.keyring`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exchange_api.crypto.keyfiles import KeyMaterial

__all__ = ["blind_index_check", "blind_index_check_matches", "kek_canary", "kek_canary_opens"]

_CANARY_LABEL = b"exchange-api/key-check/kek/v1"
_BLIND_INDEX_LABEL = b"exchange-api/key-check/blind-index-root/v1"
_NONCE_BYTES = 12
_CANARY_BYTES = 32


def _canary_aad(version: int) -> bytes:
    return _CANARY_LABEL + struct.pack(">I", version)


def kek_canary(keys: KeyMaterial, version: int) -> bytes:
    """A fresh canary for KEK ``version`` (which ``keys`` must hold)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keys.keks[version]).encrypt(
        nonce, os.urandom(_CANARY_BYTES), _canary_aad(version)
    )
    return nonce + sealed


def kek_canary_opens(keys: KeyMaterial, version: int, canary: bytes) -> bool:
    """Whether ``keys``' KEK ``version`` is the one ``canary`` was made with."""
    try:
        AESGCM(keys.keks[version]).decrypt(
            canary[:_NONCE_BYTES], canary[_NONCE_BYTES:], _canary_aad(version)
        )
    except (InvalidTag, ValueError):
        return False
    return True


def blind_index_check(keys: KeyMaterial) -> bytes:
    """The key-check value of ``keys``' blind-index root."""
    return hmac.new(keys.blind_index_root, _BLIND_INDEX_LABEL, hashlib.sha256).digest()


def blind_index_check_matches(keys: KeyMaterial, value: bytes) -> bool:
    return hmac.compare_digest(blind_index_check(keys), value)
