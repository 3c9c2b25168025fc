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

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel

from exchange_api.audit.operator import BatchRecorder
from exchange_api.crypto import IntegrityError, Keyring, WrappedDek, rewrap_dek
from exchange_api.models.alerts import Alert

__all__ = ["RewrapReport", "rewrap_alerts"]

_ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
_UPDATE = (
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("alert_id"), _ALERTS.c.kek_version == bindparam("old"))
    .values(kek_version=bindparam("new"), wrapped_dek=bindparam("blob"))
)


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """What a run did, and what it left under older KEKs."""

    kek_version: int
    rewrapped: int
    failed: list[str]
    """Ids of alerts whose wrapped DEK did not authenticate (left as they were)."""
    remaining: Mapping[int, int]
    """Alerts per older KEK version after the run: the failed ones, and any a server created
    meanwhile under the KEK it started with (rewrap again once every server has restarted)."""


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
            connection = session.connection()
            rows = connection.execute(_older_than(current, after, batch_size)).all()
            changes = []
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
                connection.execute(_UPDATE, changes)
                record(session, [str(change["alert_id"]) for change in changes])
        rewrapped += len(changes)
        if len(rows) < batch_size:
            break
        after = rows[-1].id
    with session_factory() as session:
        counts = session.connection().execute(
            select(_ALERTS.c.kek_version, func.count())
            .where(_ALERTS.c.kek_version < current, _ALERTS.c.wrapped_dek.is_not(None))
            .group_by(_ALERTS.c.kek_version)
        )
        remaining = {int(version): int(count) for version, count in counts}
    return RewrapReport(current, rewrapped, failed, remaining)


def _older_than(current: int, after: uuid.UUID | None, limit: int) -> Select[tuple[object, ...]]:
    statement = select(_ALERTS.c.id, _ALERTS.c.kek_version, _ALERTS.c.wrapped_dek).where(
        _ALERTS.c.kek_version < current, _ALERTS.c.wrapped_dek.is_not(None)
    )
    if after is not None:
        statement = statement.where(_ALERTS.c.id > after)
    return statement.order_by(_ALERTS.c.id).limit(limit).with_for_update()
