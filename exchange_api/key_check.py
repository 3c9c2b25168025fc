"""The key check: does the keys directory belong to this database?

Deleting ``keys/`` beside a database, or restoring a database beside other keys, used to go
unnoticed: the service started, ``/readyz`` said ready, then every alert read failed and every
search by a sealed value found nothing. Now a database is bound to its keys by key-check values
(:mod:`exchange_api.crypto.key_check`, table ``key_checks``), written at ``init`` and whenever the
service starts on a database without them. :func:`check_keys` compares, naming the key and
version that does not match and never showing key material:

1. the blind-index root against its stored check value;
2. each KEK version this process holds against its stored canary;
3. each KEK version that stored alerts' data keys are wrapped under and that step 2 did not
   prove: one such data key is unwrapped (with the version's file, also a version newer than
   those loaded at start). That covers databases older than the key check, and a version whose
   file is gone: a version nothing is wrapped under any more may be destroyed, one still in use
   may not. (A version proved by its canary is not tried on an alert: one damaged wrapped key
   is ``keys rewrap``'s to report, not a reason to stop serving every other alert.)

Only when all agree are the missing check values stored (a new KEK version gets its canary).
``serve`` refuses to start when they do not agree, and ``/readyz`` answers 503 with the same
sentence. ``init`` creates keys only for a database not yet bound to keys (:func:`bound_to_keys`).
A database older than the key check cannot prove its blind-index root: its value is stored as
found.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as ConstraintViolation
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from exchange_api.crypto import (
    IntegrityError,
    KeyMaterial,
    Keyring,
    WrappedDek,
    blind_index_check,
    blind_index_check_matches,
    kek_canary,
    kek_canary_opens,
    kek_path,
)
from exchange_api.crypto.keyfiles import BLIND_INDEX_ROOT_FILE
from exchange_api.models.alerts import Alert
from exchange_api.models.keys import KeyCheckRecord

__all__ = ["KeyCheck", "KeyMismatch", "bound_to_keys", "check_keys", "versions_in_use"]

_BLIND_INDEX = "blind-index"
_RESTORE = "restore the keys directory this database was created with"


class KeyMismatch(Exception):
    """The keys do not match the database; ``str()`` is one line naming the key."""


def _kek_name(version: int) -> str:
    return f"kek:{version}"


def bound_to_keys(session: Session) -> bool:
    """Whether the database holds key-check values or data keys: new keys would not open it."""
    checks = session.execute(select(col(KeyCheckRecord.name)).limit(1)).first()
    wrapped = session.execute(
        select(col(Alert.id)).where(col(Alert.wrapped_dek).is_not(None)).limit(1)
    ).first()
    return checks is not None or wrapped is not None


def versions_in_use(session: Session) -> list[int]:
    """The KEK versions that stored data keys are wrapped under (shredded alerts have none)."""
    statement = (
        select(col(Alert.kek_version))
        .where(col(Alert.wrapped_dek).is_not(None))
        .distinct()
        .order_by(col(Alert.kek_version))
    )
    return [int(version) for version in session.execute(statement).scalars()]


def check_keys(session: Session, keys: KeyMaterial, keyring: Keyring, keys_dir: Path) -> None:
    """Compare the keys with the database (module docstring), then store the missing check
    values in ``session``'s transaction. :class:`KeyMismatch` at the first disagreement."""
    stored = {
        record.name: record.value for record in session.execute(select(KeyCheckRecord)).scalars()
    }
    blind = stored.get(_BLIND_INDEX)
    if blind is not None and not blind_index_check_matches(keys, blind):
        raise KeyMismatch(
            f"the blind-index root key {keys_dir / BLIND_INDEX_ROOT_FILE} is not the one this "
            f"database was created with (searches would find nothing): {_RESTORE}"
        )
    for version in sorted(keys.keks):
        canary = stored.get(_kek_name(version))
        if canary is not None and not kek_canary_opens(keys, version, canary):
            raise KeyMismatch(
                f"KEK version {version} ({kek_path(keys_dir, version)}) is not the one this "
                f"database was created with: {_RESTORE}"
            )
    proved = {version for version in keys.keks if _kek_name(version) in stored}
    for version in versions_in_use(session):
        if version not in proved:
            _unwrap_one(session, keyring, keys_dir, version)
    if blind is None:
        session.add(KeyCheckRecord(name=_BLIND_INDEX, value=blind_index_check(keys)))
    for version in keys.keks:
        if _kek_name(version) not in stored:
            session.add(KeyCheckRecord(name=_kek_name(version), value=kek_canary(keys, version)))
    session.flush()


def _unwrap_one(session: Session, keyring: Keyring, keys_dir: Path, version: int) -> None:
    row = session.execute(
        select(col(Alert.id), col(Alert.wrapped_dek))
        .where(col(Alert.kek_version) == version, col(Alert.wrapped_dek).is_not(None))
        .order_by(col(Alert.id))
        .limit(1)
    ).one()
    alert_id, blob = row
    try:
        keyring.unwrap_dek(WrappedDek(version, blob), alert_id=str(alert_id))
    except IntegrityError:
        path = kek_path(keys_dir, version)
        if not path.exists():
            raise KeyMismatch(
                f"KEK version {version} ({path}) is missing, but alerts' data keys are still "
                f"wrapped under it: {_RESTORE}, or copy that file from where it was rotated"
            ) from None
        raise KeyMismatch(
            f"KEK version {version} ({path}) does not unwrap the data keys stored under it "
            f"(alert {alert_id}): {_RESTORE}"
        ) from None


class KeyCheck:
    """The check as the running service makes it: at start, then by ``/readyz`` until it has
    passed once (the database may be unreachable at start; a database restored meanwhile is
    checked again). Keys cannot change under a running process, so a pass is final."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        keys: KeyMaterial,
        keyring: Keyring,
        keys_dir: Path,
    ) -> None:
        self._session_factory = session_factory
        self._keys = keys
        self._keyring = keyring
        self._keys_dir = keys_dir
        self._passed = False
        self._lock = threading.Lock()

    def problem(self) -> str | None:
        """None when the keys match the database; else the one-line reason. A database error
        propagates (``SQLAlchemyError``): the caller says the database cannot be reached."""
        if self._passed:
            return None
        with self._lock:
            try:
                self._run()
            except KeyMismatch as exc:
                return str(exc)
            self._passed = True
            return None

    def _run(self) -> None:
        # Two workers starting on a new database both store the check values: the second's
        # insert conflicts, and its second try finds and checks the first's.
        for attempt in (1, 2):
            try:
                with self._session_factory.begin() as session:
                    check_keys(session, self._keys, self._keyring, self._keys_dir)
                return
            except ConstraintViolation:
                if attempt == 2:
                    raise
