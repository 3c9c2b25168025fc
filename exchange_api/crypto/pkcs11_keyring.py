"""A :class:`~exchange_api.crypto.keyring.Keyring` whose KEKs live in a PKCS#11 token (an HSM;
tested with SoftHSM2). Selected by ``EXCHANGE_KEYRING=pkcs11`` (docs/security.md).

- Each KEK version is an AES-256 secret key object generated *in* the token, labelled
  ``exchange-api-kek-NNNN``, with ``CKA_SENSITIVE`` true and ``CKA_EXTRACTABLE`` false: its value
  can never be read out (``CKA_VALUE`` is refused), nor wrapped out. ``keys rotate`` adds one.
- A DEK is wrapped by ``CKM_AES_GCM`` inside the token, with exactly the associated data and blob
  layout of the file provider (:func:`~exchange_api.crypto.keyring.dek_wrap_aad`): a wrapped DEK
  moved to another alert fails to unwrap in the token as it does in memory, and a blob means the
  same whichever provider made it. GCM rather than ``CKM_AES_KEY_WRAP_PAD``: key wrap takes no
  associated data, so it could not bind a DEK to its alert; SoftHSM2 (and the HSMs the project
  expects) offer ``CKM_AES_GCM`` with AAD. The 96-bit nonce comes from the host's CSPRNG, as in
  the file provider; each KEK wraps each DEK once.
- Versions are numbered after the file KEKs (a new version is one more than the highest of
  both), so ``kek_version`` on an alert names one key wherever it lives. A version the token
  does not hold is opened by the ``fallback`` keyring — the key files — which is how a DEK wrapped
  by a file KEK is re-wrapped under the token's KEK (``keys rewrap``) during a migration.
- The blind-index root stays the file's (HMAC keys must be derived in memory to search).

One token session per process, serialised by a lock: PKCS#11 sessions are not for concurrent use
from several threads. The PIN is given once, to log in, and kept nowhere else.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import PKCS11Error, UserAlreadyLoggedIn
from pkcs11.mechanisms import GCMParams

from exchange_api.crypto.errors import IntegrityError, TokenUnavailable
from exchange_api.crypto.keyring import (
    DEK_BYTES,
    NONCE_BYTES,
    BlindIndexKeys,
    Keyring,
    WrappedDek,
    dek_blob,
    dek_blob_parts,
    dek_wrap_aad,
)

__all__ = ["KEK_LABEL_PREFIX", "Pkcs11Keyring", "Pkcs11Settings"]

KEK_LABEL_PREFIX = "exchange-api-kek-"
_KEK_LABEL = re.compile(r"^exchange-api-kek-(\d{4,})$")
_TAG_BITS = 128
_UNWRAP_FAILED = "A stored data key could not be unwrapped."
_LOOK_AGAIN_AFTER = 10.0


@dataclass(frozen=True, repr=False)
class Pkcs11Settings:
    module: str
    token_label: str
    pin: str

    def __repr__(self) -> str:
        return f"Pkcs11Settings(module={self.module!r}, token_label={self.token_label!r})"


class Pkcs11Keyring:
    """KEKs in a PKCS#11 token (module docstring); versions it lacks go to ``fallback``."""

    def __init__(
        self,
        settings: Pkcs11Settings,
        *,
        blind_index_root: bytes,
        fallback: Keyring | None = None,
    ) -> None:
        try:
            token = pkcs11.lib(settings.module).get_token(token_label=settings.token_label)
            try:
                self._session = token.open(rw=True, user_pin=settings.pin)
            except UserAlreadyLoggedIn:
                # A login is the application's, shared by its sessions (PKCS#11 §5.6): another
                # keyring of this process logged in already.
                self._session = token.open(rw=True)
        except (PKCS11Error, RuntimeError, OSError) as exc:
            raise TokenUnavailable(
                f"PKCS#11 token {settings.token_label!r} via {settings.module}: cannot log in "
                f"({type(exc).__name__})"
            ) from None
        self._lock = threading.Lock()
        self._fallback = fallback
        self._blind_index_keys = BlindIndexKeys(blind_index_root)
        self._keks = self._find_keks()
        self._missing: dict[int, float] = {}

    def __repr__(self) -> str:
        return f"Pkcs11Keyring(kek_versions={sorted(self._keks)})"

    def _find_keks(self) -> dict[int, Any]:
        with self._lock:
            found = {}
            for key in self._session.get_objects(
                {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
            ):
                match = _KEK_LABEL.match(str(key[Attribute.LABEL]))
                if match:
                    found[int(match.group(1))] = key
            return found

    @property
    def kek_versions(self) -> list[int]:
        return sorted(self._keks)

    @property
    def current_kek_version(self) -> int:
        if not self._keks:
            raise TokenUnavailable(
                "the PKCS#11 token holds no KEK: run `exchange-api keys rotate` to create one"
            )
        return max(self._keks)

    def add_kek_version(self, *, after: int) -> int:
        """Generate the next KEK in the token (non-extractable AES-256), numbered after both the
        token's versions and ``after`` (the highest file KEK); return its version."""
        version = max([after, *self._keks]) + 1
        with self._lock:
            key = self._session.generate_key(
                KeyType.AES,
                256,
                label=f"{KEK_LABEL_PREFIX}{version:04d}",
                id=version.to_bytes(4, "big"),
                store=True,
                template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                },
            )
        self._keks[version] = key
        return version

    def wrap_dek(self, dek: bytes, *, alert_id: str) -> WrappedDek:
        if len(dek) != DEK_BYTES:
            raise ValueError(f"a DEK is {DEK_BYTES} bytes")
        version = self.current_kek_version
        nonce = os.urandom(NONCE_BYTES)
        params = GCMParams(nonce, dek_wrap_aad(version, alert_id), _TAG_BITS)
        with self._lock:
            sealed = self._keks[version].encrypt(
                dek, mechanism=Mechanism.AES_GCM, mechanism_param=params
            )
        return WrappedDek(version, dek_blob(nonce, bytes(sealed)))

    def unwrap_dek(self, wrapped: WrappedDek, *, alert_id: str) -> bytes:
        key = self._kek(wrapped.kek_version)
        if key is None:
            if self._fallback is None:
                raise IntegrityError(_UNWRAP_FAILED)
            return self._fallback.unwrap_dek(wrapped, alert_id=alert_id)
        parts = dek_blob_parts(wrapped.blob)
        if parts is None:
            raise IntegrityError(_UNWRAP_FAILED)
        nonce, sealed = parts
        params = GCMParams(nonce, dek_wrap_aad(wrapped.kek_version, alert_id), _TAG_BITS)
        try:
            with self._lock:
                dek = key.decrypt(sealed, mechanism=Mechanism.AES_GCM, mechanism_param=params)
        except PKCS11Error:
            # The token says only that the tag did not verify (or the data is malformed).
            raise IntegrityError(_UNWRAP_FAILED) from None
        return bytes(dek)

    def _kek(self, version: int) -> Any:
        """The token's KEK ``version``; a version newer than known is looked for (another
        process may have rotated), at most every 10 s."""
        key = self._keks.get(version)
        if key is None and version > max(self._keks, default=0):
            missed = self._missing.get(version)
            if missed is None or time.monotonic() - missed >= _LOOK_AGAIN_AFTER:
                self._keks = {**self._find_keks(), **self._keks}
                key = self._keks.get(version)
                if key is None:
                    self._missing[version] = time.monotonic()
        return key

    def blind_index_key(self, field: str) -> bytes:
        return self._blind_index_keys.key(field)
