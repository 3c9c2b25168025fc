"""Field sealing: each sensitive field of an alert encrypted under the alert's data key (DEK).

Envelope encryption (docs/contract.md §5): every alert has its own random 256-bit DEK, stored
only wrapped by the keyring's KEK. Each field is sealed with AES-256-GCM and a random 96-bit
nonce; a DEK seals one alert's handful of fields (and its follow-ups), far below GCM's
random-nonce limit.

Sealed layout::

    format (1 byte, 0x01) | DEK version (4, big-endian) | nonce (12) | ciphertext | tag (16)

The first five bytes are the header, so the format can evolve and a reader can tell which DEK a
value needs. The associated data binds the value to its place — a domain label, the header, the
alert id and the field name, each length-prefixed — so the header is authenticated too, and a
ciphertext copied to another alert, another field or another DEK version fails to open. Any
failure (tampering, a moved value, a wrong key) is an :class:`IntegrityError`, which says nothing
about the value.

Hot path: :class:`FieldCipher` holds one ``AESGCM`` object per DEK, so sealing or opening all of an
alert's fields sets the key up once. :func:`seal_field` and :func:`open_field` are the one-shot
forms.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exchange_api.crypto.errors import IntegrityError
from exchange_api.crypto.keyring import DEK_BYTES, Keyring, WrappedDek

__all__ = [
    "FieldCipher",
    "IntegrityError",
    "new_dek",
    "open_field",
    "rewrap_dek",
    "seal_field",
]

_FORMAT_AES_GCM = 0x01
_HEADER = struct.Struct(">BI")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_MIN_SEALED_BYTES = _HEADER.size + _NONCE_BYTES + _TAG_BYTES
_MAX_DEK_VERSION = 2**32 - 1
_AAD_LABEL = b"exchange-api/field"
_LENGTH = struct.Struct(">I")
_OPEN_FAILED = "A stored field could not be decrypted."


def new_dek() -> bytes:
    """A fresh random data key for one alert."""
    return os.urandom(DEK_BYTES)


class FieldCipher:
    """Seals and opens the fields of one alert under one DEK version. Reuse it across fields."""

    __slots__ = ("_aad_prefix", "_aead", "_header")

    def __init__(self, dek: bytes, *, alert_id: str, dek_version: int) -> None:
        if len(dek) != DEK_BYTES:
            raise ValueError(f"a DEK is {DEK_BYTES} bytes")
        if not 0 <= dek_version <= _MAX_DEK_VERSION:
            raise ValueError("the DEK version must fit in 32 bits")
        self._aead = AESGCM(dek)
        self._header = _HEADER.pack(_FORMAT_AES_GCM, dek_version)
        alert = alert_id.encode("utf-8")
        self._aad_prefix = _AAD_LABEL + self._header + _LENGTH.pack(len(alert)) + alert

    def __repr__(self) -> str:
        return "FieldCipher(<redacted>)"

    def _aad(self, field: str) -> bytes:
        name = field.encode("utf-8")
        return self._aad_prefix + _LENGTH.pack(len(name)) + name

    def seal(self, field: str, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` for ``field`` of this alert."""
        nonce = os.urandom(_NONCE_BYTES)
        return self._header + nonce + self._aead.encrypt(nonce, plaintext, self._aad(field))

    def open(self, field: str, sealed: bytes) -> bytes:
        """Decrypt a value sealed for ``field`` of this alert; :class:`IntegrityError` otherwise."""
        header_end = _HEADER.size
        nonce_end = header_end + _NONCE_BYTES
        if len(sealed) < _MIN_SEALED_BYTES or sealed[:header_end] != self._header:
            raise IntegrityError(_OPEN_FAILED)
        try:
            return self._aead.decrypt(
                sealed[header_end:nonce_end], sealed[nonce_end:], self._aad(field)
            )
        except InvalidTag:
            raise IntegrityError(_OPEN_FAILED) from None


def seal_field(
    dek: bytes, *, alert_id: str, field: str, dek_version: int, plaintext: bytes
) -> bytes:
    """Encrypt one field, bound to its alert, field name and DEK version."""
    return FieldCipher(dek, alert_id=alert_id, dek_version=dek_version).seal(field, plaintext)


def open_field(dek: bytes, *, alert_id: str, field: str, dek_version: int, sealed: bytes) -> bytes:
    """Decrypt one field sealed by :func:`seal_field` for the same place; else IntegrityError."""
    return FieldCipher(dek, alert_id=alert_id, dek_version=dek_version).open(field, sealed)


def rewrap_dek(keyring: Keyring, wrapped: WrappedDek, *, alert_id: str) -> WrappedDek:
    """Re-wrap an alert's DEK under the current KEK; field ciphertexts stay as they are.

    The DEK is always unwrapped first, so a batch rewrap also proves every wrapped key still
    authenticates. A DEK already under the current KEK comes back as the same object, so the
    caller can skip writing it (``result is wrapped``).
    """
    dek = keyring.unwrap_dek(wrapped, alert_id=alert_id)
    if wrapped.kek_version == keyring.current_kek_version:
        return wrapped
    return keyring.wrap_dek(dek, alert_id=alert_id)
