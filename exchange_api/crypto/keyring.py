"""The keyring: the only holder of key-encryption keys and of the blind-index root.

:class:`Keyring` is the extension point. The rest of the service never sees a KEK: it asks the
keyring to wrap or unwrap an alert's data key (DEK) and to hand out per-field blind-index keys.
:class:`LocalKeyring` implements it from key files (:mod:`exchange_api.crypto.keyfiles`); a
PKCS#11 (HSM) provider can implement the same protocol, keeping the KEKs inside the device.

How a DEK is wrapped, and why AES-256-GCM rather than AES key wrap (RFC 3394/5649):

- AES key wrap has no associated data. A wrapped DEK copied onto another alert's row would
  unwrap without complaint, and the fields sealed under it would then be bound to the wrong
  alert only by the field AAD. With GCM the wrap itself is bound to its alert: the associated
  data holds a domain label, the blob format, the KEK version and the alert id, so a blob moved to
  another alert, or relabelled with another KEK version, fails to unwrap (:class:`IntegrityError`).
- GCM's weakness is its random 96-bit nonce: under one key, ~2**32 encryptions keep the chance of
  a nonce collision below 2**-32 (NIST SP 800-38D). A KEK wraps each DEK once (a rewrap uses the
  newest KEK), so that bound means four billion alerts per KEK version, far beyond this service.
- PKCS#11 offers ``CKM_AES_GCM`` with associated data, so an HSM provider can keep the same
  binding.

Blob layout: ``format (1 byte, 0x01) | nonce (12) | encrypted DEK (32) | tag (16)``. The KEK version
travels beside the blob (:class:`WrappedDek`) and is authenticated as part of the associated data.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from exchange_api.crypto.errors import IntegrityError
from exchange_api.crypto.keyfiles import SYMMETRIC_KEY_BYTES, KeyFileError, KeyMaterial, load_kek

__all__ = [
    "DEK_BYTES",
    "NONCE_BYTES",
    "BlindIndexKeys",
    "Keyring",
    "LocalKeyring",
    "WrappedDek",
    "dek_blob",
    "dek_blob_parts",
    "dek_wrap_aad",
]

DEK_BYTES = 32
NONCE_BYTES = 12
_NONCE_BYTES = NONCE_BYTES
_TAG_BYTES = 16
_BLOB_BYTES = 1 + _NONCE_BYTES + DEK_BYTES + _TAG_BYTES
_WRAP_FORMAT_AES_GCM = 0x01
_WRAP_LABEL = b"exchange-api/dek-wrap"
_BLIND_INDEX_INFO = b"exchange-api/blind-index/v1/"
_UNWRAP_FAILED = "A stored data key could not be unwrapped."
_LOOK_AGAIN_AFTER = 10.0  # seconds before a KEK file found missing is looked for again


@dataclass(frozen=True)
class WrappedDek:
    """An alert's data key, encrypted under the KEK of ``kek_version`` (stored with the alert)."""

    kek_version: int
    blob: bytes


class Keyring(Protocol):
    """What the service needs from wherever the keys live (files, an HSM)."""

    @property
    def current_kek_version(self) -> int:
        """The KEK version that :meth:`wrap_dek` uses."""
        ...

    def wrap_dek(self, dek: bytes, *, alert_id: str) -> WrappedDek:
        """Encrypt ``dek`` under the current KEK, bound to ``alert_id``."""
        ...

    def unwrap_dek(self, wrapped: WrappedDek, *, alert_id: str) -> bytes:
        """Recover the DEK; :class:`IntegrityError` if blob, version or alert do not match."""
        ...

    def blind_index_key(self, field: str) -> bytes:
        """The HMAC key for the blind index of ``field`` (32 bytes, stable for a given root)."""
        ...


def dek_wrap_aad(kek_version: int, alert_id: str) -> bytes:
    """The associated data of a DEK wrapped under KEK ``kek_version`` for ``alert_id``: the same
    for every provider, so a blob means the same wherever its KEK lives."""
    # Fixed-width and length-prefixed parts, so no two (version, alert id) pairs share an encoding.
    alert = alert_id.encode("utf-8")
    return b"%s%s%s" % (
        _WRAP_LABEL,
        struct.pack(">BII", _WRAP_FORMAT_AES_GCM, kek_version, len(alert)),
        alert,
    )


def dek_blob(nonce: bytes, sealed: bytes) -> bytes:
    """The stored blob of a DEK that AES-GCM sealed (``sealed`` = ciphertext and tag)."""
    return bytes([_WRAP_FORMAT_AES_GCM]) + nonce + sealed


def dek_blob_parts(blob: bytes) -> tuple[bytes, bytes] | None:
    """``(nonce, sealed)`` of a stored blob; ``None`` if it is not one."""
    if len(blob) != _BLOB_BYTES or blob[0] != _WRAP_FORMAT_AES_GCM:
        return None
    return blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]


class BlindIndexKeys:
    """Per-field blind-index keys derived (HKDF) from the root key, each derived once."""

    def __init__(self, root: bytes) -> None:
        self._root = root
        self._keys: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return "BlindIndexKeys(<redacted>)"

    def key(self, field: str) -> bytes:
        key = self._keys.get(field)
        if key is None:
            # Deterministic, so a race between threads at worst derives the same key twice.
            key = HKDF(
                algorithm=hashes.SHA256(),
                length=SYMMETRIC_KEY_BYTES,
                salt=None,
                info=_BLIND_INDEX_INFO + field.encode("utf-8"),
            ).derive(self._root)
            self._keys[field] = key
        return key


class LocalKeyring:
    """A :class:`Keyring` over keys loaded from files (:func:`load_key_material`).

    Given ``keys_dir``, a KEK version newer than those loaded at start is read from its file
    the first time a DEK wrapped under it is met (checked like every key file). That is what
    makes rotation safe while servers run: ``keys rotate`` adds a version, ``keys rewrap`` moves
    DEKs to it, and a server started before the rotation still opens them — provided the file is
    in its keys directory (on several machines, copy it to each before the rewrap). A version
    found missing is looked for again after 10 s, not on every request. New DEKs stay under the
    version that was newest at start until the server restarts.
    """

    def __init__(self, material: KeyMaterial, *, keys_dir: Path | None = None) -> None:
        self._kek_ciphers = {version: AESGCM(kek) for version, kek in material.keks.items()}
        self._keys_dir = keys_dir
        self._missing: dict[int, float] = {}
        self._current = material.current_kek_version
        self._blind_index_keys = BlindIndexKeys(material.blind_index_root)

    def __repr__(self) -> str:
        return f"LocalKeyring(kek_versions={sorted(self._kek_ciphers)}, secrets=<redacted>)"

    @property
    def current_kek_version(self) -> int:
        return self._current

    def wrap_dek(self, dek: bytes, *, alert_id: str) -> WrappedDek:
        if len(dek) != DEK_BYTES:
            raise ValueError(f"a DEK is {DEK_BYTES} bytes")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._kek_ciphers[self._current].encrypt(
            nonce, dek, dek_wrap_aad(self._current, alert_id)
        )
        return WrappedDek(self._current, dek_blob(nonce, sealed))

    def unwrap_dek(self, wrapped: WrappedDek, *, alert_id: str) -> bytes:
        cipher = self._kek_cipher(wrapped.kek_version)
        parts = dek_blob_parts(wrapped.blob)
        if cipher is None or parts is None:
            raise IntegrityError(_UNWRAP_FAILED)
        try:
            return cipher.decrypt(*parts, dek_wrap_aad(wrapped.kek_version, alert_id))
        except InvalidTag:
            raise IntegrityError(_UNWRAP_FAILED) from None

    def _kek_cipher(self, version: int) -> AESGCM | None:
        cipher = self._kek_ciphers.get(version)
        if cipher is None and self._keys_dir is not None and version > self._current:
            missed = self._missing.get(version)
            if missed is not None and time.monotonic() - missed < _LOOK_AGAIN_AFTER:
                return None
            try:
                cipher = AESGCM(load_kek(self._keys_dir, version))
            except KeyFileError:
                # No such version here (yet): the DEK cannot be unwrapped. Look again later,
                # not on every request.
                self._missing[version] = time.monotonic()
                return None
            self._kek_ciphers[version] = cipher
        return cipher

    def blind_index_key(self, field: str) -> bytes:
        return self._blind_index_keys.key(field)
