"""Moving every alert's data key under the newest KEK (``exchange-api keys rewrap``).

Online, in batches: each batch of alerts whose DEK is wrapped under an older KEK is read, locked
(``FOR UPDATE`` on PostgreSQL; SQLite's transactions hold its write lock) and rewritten in a short
transaction of its own, so requests go on meanwhile and an interrupted run loses nothing: the next
run takes what is left. Only ``kek_version`` and ``wrapped_dek`` change; the DEK itself, and so
every field ciphertext, stays as it is (docs/contract.md §5).

Shredded alerts (:mod:`.retention`) have no DEK left and are not counted. Every DEK is
unwrapped on the way (:func:`~exchange_api.crypto.rewrap_dek`), so a run also proves
that each wrapped key still authenticates. One that does not is reported by alert id and left
untouched; the walk goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.alerts.jobs_repository import AlertJobsRepository
from exchange_api.audit.operator import BatchRecorder
from exchange_api.crypto import IntegrityError, Keyring, WrappedDek, rewrap_dek

__all__ = ["RewrapReport", "rewrap_alerts"]


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """What a run did, and what it left under older KEKs."""

    kek_version: int
    rewrapped: int
    failed: list[str]
    """Ids of alerts whose wrapped DEK did not authenticate (left as they were)."""
    remaining: Mapping[int, int]
    """Alerts per KEK version other than ``kek_version`` after the run: under older ones, the
    failed ones and any a server created meanwhile under the KEK it started with (rewrap again
    once every server has restarted); under newer ones, those wrapped by a machine whose keys
    are newer than the ones this run had (no KEK file can be destroyed while any is left)."""


def rewrap_alerts(
    session_factory: sessionmaker[Session],
    keyring: Keyring,
    *,
    record: BatchRecorder,
    batch_size: int = 500,
) -> RewrapReport:
    """Re-wrap, batch by batch in id order, every DEK under a KEK older than the keyring's;
    each batch's change is recorded by ``record`` in its transaction."""
    current = keyring.current_kek_version
    rewrapped, failed = 0, []
    after: uuid.UUID | None = None
    while True:
        with session_factory.begin() as session:
            repository = AlertJobsRepository(session)
            rows = repository.lock_wrapped_under_older(current, after, batch_size)
            changes: list[dict[str, object]] = []
            for row in rows:
                alert_id = str(row.id)
                try:
                    wrapped = rewrap_dek(
                        keyring, WrappedDek(row.kek_version, row.wrapped_dek), alert_id=alert_id
                    )
                except IntegrityError:
                    failed.append(alert_id)
                    continue
                changes.append(
                    {
                        "alert_id": row.id,
                        "old": row.kek_version,
                        "new": wrapped.kek_version,
                        "blob": wrapped.blob,
                    }
                )
            if changes:
                repository.store_rewrapped(changes)
                record(session, [str(change["alert_id"]) for change in changes])
        rewrapped += len(changes)
        if len(rows) < batch_size:
            break
        after = rows[-1].id
    with session_factory() as session:
        remaining = AlertJobsRepository(session).count_wrapped_under_others(current)
    return RewrapReport(current, rewrapped, failed, remaining)
