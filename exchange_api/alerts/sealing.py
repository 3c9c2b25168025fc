"""An alert's sensitive field groups, sealed under its own data key (docs/contract.md §5).

Each alert gets a fresh DEK, wrapped by the keyring (bound to the alert id) and stored beside the
row; each field group is sealed on its own under that DEK, bound to the alert id, the group name
and the DEK version, so a ciphertext copied to another alert or another column fails to open.
Every group is sealed even when empty, so that the database does not show which alerts carry
persons or a narrative, only roughly how long each group is. Opening or changing the groups of a
shredded alert (:mod:`.retention`) is 410 ``alert-shredded``: there is no key left to open them.

This module is the only part of the alerts domain that handles key material, and it does so only
through :mod:`exchange_api.crypto`. Anything that fails to authenticate raises
:class:`~exchange_api.crypto.IntegrityError` (500, fail closed); nothing here logs or returns
ciphertext or plaintext in an error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final, Protocol

from exchange_api.alerts.errors import AlertShredded
from exchange_api.alerts.vocabulary import FIELD_GROUPS, FieldGroup
from exchange_api.crypto import FieldCipher, Keyring, WrappedDek, new_dek
from exchange_api.models.alerts import Alert

__all__ = [
    "DEK_VERSION",
    "AttachedCipher",
    "attached_cipher",
    "open_groups",
    "require_content",
    "reseal_groups",
    "seal_new_alert",
    "sealed_column",
]

DEK_VERSION: Final = 1
"""Version of an alert's data key. An alert keeps one DEK for life (KEK rotation re-wraps it);
the version is in every field header so that re-keying an alert can be added without ambiguity."""


def sealed_column(group: FieldGroup) -> str:
    """The ``alerts`` column holding ``group``'s ciphertext."""
    return f"sealed_{group}"


def seal_new_alert(
    keyring: Keyring, alert_id: uuid.UUID, plaintexts: Mapping[FieldGroup, bytes]
) -> dict[str, object]:
    """A new DEK for the alert and every field group sealed under it, as ``alerts`` columns.

    ``plaintexts`` must hold every group of :data:`FIELD_GROUPS`.
    """
    dek = new_dek()
    alert = str(alert_id)
    wrapped = keyring.wrap_dek(dek, alert_id=alert)
    cipher = FieldCipher(dek, alert_id=alert, dek_version=DEK_VERSION)
    columns: dict[str, object] = {
        "kek_version": wrapped.kek_version,
        "wrapped_dek": wrapped.blob,
        "dek_version": DEK_VERSION,
    }
    for group in FIELD_GROUPS:
        columns[sealed_column(group)] = cipher.seal(group, plaintexts[group])
    return columns


class SealedFacts(Protocol):
    """What opens an alert's sealed groups: an :class:`Alert`, or a row of its columns (which
    also carries the ``sealed_*`` columns, read by name)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kek_version(self) -> int: ...
    @property
    def wrapped_dek(self) -> bytes | None: ...
    @property
    def dek_version(self) -> int: ...
    @property
    def shredded_at(self) -> datetime | None: ...


def require_content(row: SealedFacts) -> bytes:
    """The alert's wrapped DEK; :class:`AlertShredded` (410) once retention destroyed it."""
    if row.shredded_at is not None or row.wrapped_dek is None:
        raise AlertShredded(row.id, row.shredded_at)
    return row.wrapped_dek


def _cipher(keyring: Keyring, row: SealedFacts) -> FieldCipher:
    alert = str(row.id)
    wrapped = WrappedDek(row.kek_version, require_content(row))
    dek = keyring.unwrap_dek(wrapped, alert_id=alert)
    return FieldCipher(dek, alert_id=alert, dek_version=row.dek_version)


def open_groups(
    keyring: Keyring, row: SealedFacts, groups: Iterable[FieldGroup]
) -> dict[FieldGroup, bytes]:
    """Decrypt only ``groups`` of the alert; the DEK is not unwrapped when there are none."""
    wanted = list(groups)
    if not wanted:
        return {}
    cipher = _cipher(keyring, row)
    return {group: cipher.open(group, getattr(row, sealed_column(group))) for group in wanted}


def reseal_groups(
    keyring: Keyring, row: Alert, plaintexts: Mapping[FieldGroup, bytes]
) -> dict[str, bytes]:
    """New ciphertexts for changed groups under the alert's existing DEK, as column values."""
    if not plaintexts:
        return {}
    cipher = _cipher(keyring, row)
    return {sealed_column(group): cipher.seal(group, value) for group, value in plaintexts.items()}


class AttachedCipher:
    """Seals and opens the texts of records attached to an alert (a follow-up's summary, a
    request's message) under that alert's DEK, each bound to its record and field: the associated
    data names ``<kind>/<record id>/<field>``, so a ciphertext moved to another record, another
    field or another alert fails to open. Shredding the alert's DEK shreds these texts too."""

    __slots__ = ("_cipher",)

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    @staticmethod
    def _place(kind: str, record_id: uuid.UUID, field: str) -> str:
        return f"{kind}/{record_id}/{field}"

    def seal(self, kind: str, record_id: uuid.UUID, field: str, plaintext: bytes) -> bytes:
        return self._cipher.seal(self._place(kind, record_id, field), plaintext)

    def open(self, kind: str, record_id: uuid.UUID, field: str, sealed: bytes) -> bytes:
        return self._cipher.open(self._place(kind, record_id, field), sealed)


def attached_cipher(keyring: Keyring, row: SealedFacts) -> AttachedCipher:
    """The cipher of ``row``'s attached records; 410 ``alert-shredded`` once its DEK is gone."""
    return AttachedCipher(_cipher(keyring, row))
