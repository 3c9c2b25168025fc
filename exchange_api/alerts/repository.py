"""The alerts domain's SQL. Every query that can return or count an alert takes the caller and
adds :func:`~exchange_api.alerts.visibility.visible_to`: there is no unscoped read here.

The search statement itself is built in :mod:`~exchange_api.alerts.search_query`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Row,
    bindparam,
    delete,
    func,
    update,
)
from sqlalchemy import select as select_columns  # sqlmodel's select types few columns
from sqlmodel import Session, SQLModel, col, insert, select

from exchange_api.alerts.search_query import AlertFilters, search_statement
from exchange_api.alerts.stages import stage_rank
from exchange_api.alerts.visibility import (
    followup_addressed_bound,
    followup_visible_to,
    viewer_params,
    visible_to,
    visible_to_bound,
)
from exchange_api.auth.caller import Caller
from exchange_api.bulk import insert_rows
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.models.alerts import (
    Alert,
    AlertAudience,
    AlertCountry,
    AlertSubstance,
    AlertTag,
    AlertVersionRecord,
    IdempotencyKey,
)
from exchange_api.models.followups import FollowUp

__all__ = ["AlertRepository", "NewAlertRows"]

# Bound parameters per statement stay well under PostgreSQL's 65,535.
_IN_CHUNK = 1000


@dataclass
class NewAlertRows:
    """Rows of new alerts and of their side tables, written together in bulk."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    substances: list[dict[str, Any]] = field(default_factory=list)
    countries: list[dict[str, Any]] = field(default_factory=list)
    audience: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)


# The statements by id are built once (the hottest reads): no statement construction or
# cache-key walk per request.
_VISIBLE_BY_ID = {
    industry: select(Alert).where(
        col(Alert.id) == bindparam("alert_id"), visible_to_bound(industry=industry)
    )
    for industry in (False, True)
}


def _visible_columns(*extra: Any, industry: bool) -> Any:
    """The alert's columns (and ``extra`` ones) by id, if visible to the bound viewer.

    Columns, not the ORM entity, for reads that only read the row: loading an entity (the ORM's
    compile state, identity map, instance state) was a tenth of a GET's CPU."""
    return select_columns(*SQLModel.metadata.tables[Alert.__tablename__].c, *extra).where(
        col(Alert.id) == bindparam("alert_id"), visible_to_bound(industry=industry)
    )


def _visible_with_tally(*, industry: bool) -> Any:
    """The alert by id if visible, with how many of its follow-ups the viewer may see and the
    furthest stage rank among them: what a read shows, in one statement (one round trip)."""
    followups = followup_addressed_bound()  # correlated on the alert, whose visibility is checked
    return _visible_columns(
        select(func.count()).where(followups).scalar_subquery().label("followups_seen"),
        select(func.max(stage_rank())).where(followups).scalar_subquery().label("stage_rank"),
        industry=industry,
    )


_VISIBLE_COLUMNS_BY_ID = {
    industry: _visible_columns(industry=industry) for industry in (False, True)
}
_VISIBLE_WITH_TALLY_BY_ID = {
    industry: _visible_with_tally(industry=industry) for industry in (False, True)
}


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- writing ----------------------------------------------------------------------------

    def insert(self, rows: NewAlertRows) -> None:
        """Write new alerts and their index rows, in bulk."""
        for name, values in (
            ("alerts", rows.alerts),
            ("alert_substances", rows.substances),
            ("alert_countries", rows.countries),
            ("alert_audience", rows.audience),
            ("alert_tags", rows.tags),
            ("alert_versions", rows.versions),
        ):
            self._insert(name, values)

    def _insert(self, table_name: str, rows: list[dict[str, Any]]) -> None:
        """``rows`` (same keys) into a table at once: :func:`~exchange_api.bulk.insert_rows`."""
        insert_rows(self.session.connection(), SQLModel.metadata.tables[table_name], rows)

    def claim_version(
        self, alert_id: uuid.UUID, expected_version: int, values: Mapping[str, Any]
    ) -> bool:
        """Move the alert from ``expected_version`` to the next with ``values``; False if another
        change, or retention, got there first (the conditional UPDATE is the lock, on both
        databases: a shredded alert is never written again)."""
        result = self.session.exec(
            update(Alert)
            .where(
                col(Alert.id) == alert_id,
                col(Alert.version) == expected_version,
                col(Alert.shredded_at).is_(None),
            )
            .values(version=expected_version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    def replace_substances(self, alert_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        """Replace an alert's substance rows (found by their index on the alert id: their keys
        depend on the catalogue, which may have changed since they were written)."""
        self.session.exec(delete(AlertSubstance).where(col(AlertSubstance.alert_id) == alert_id))
        self._insert("alert_substances", rows)

    def substance_lines(self, alert_id: uuid.UUID) -> list[dict[str, Any]]:
        """An alert's substance rows as stored: key, name and quantities."""
        statement = select(
            col(AlertSubstance.substance_key),
            col(AlertSubstance.name),
            col(AlertSubstance.quantity_kg),
            col(AlertSubstance.quantity_l),
        ).where(col(AlertSubstance.alert_id) == alert_id)
        return [
            {"substance_key": key, "name": name, "quantity_kg": kg, "quantity_l": litres}
            for key, name, kg, litres in self.session.exec(statement)
        ]

    def replace_countries(
        self, alert_id: uuid.UUID, old: Sequence[str], rows: list[dict[str, Any]]
    ) -> None:
        """Replace an alert's country rows; ``old`` are its route's countries before the change."""
        self.session.exec(
            delete(AlertCountry).where(
                col(AlertCountry.country).in_(list(old)), col(AlertCountry.alert_id) == alert_id
            )
        )
        self._insert("alert_countries", rows)

    def replace_audience(self, alert_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        """Replace who an alert is addressed to (its rows lead with the alert id)."""
        self.session.exec(delete(AlertAudience).where(col(AlertAudience.alert_id) == alert_id))
        self._insert("alert_audience", rows)

    def replace_tags(
        self, alert_id: uuid.UUID, fields: Iterable[str], rows: list[dict[str, Any]]
    ) -> None:
        """Replace an alert's tags of ``fields`` (those of the changed groups) with ``rows``."""
        self.session.exec(
            delete(AlertTag).where(
                col(AlertTag.alert_id) == alert_id, col(AlertTag.field).in_(list(fields))
            )
        )
        self._insert("alert_tags", rows)

    # --- Idempotency-Key rows, always of one client ------------------------------------------

    def idempotency_key(self, client_id: str, key: str) -> IdempotencyKey | None:
        return self.session.get(IdempotencyKey, (client_id, key))

    def forget_idempotency_key(self, stored: IdempotencyKey) -> None:
        self.session.delete(stored)
        self.session.flush()

    def remember_idempotency_key(self, **values: Any) -> None:
        """Insert a key's row; raises the database's IntegrityError if the client's key exists."""
        self.session.exec(insert(IdempotencyKey).values(**values))

    # --- reading, always scoped by the caller -----------------------------------------------

    def get_visible(self, caller: Caller, alert_id: uuid.UUID) -> Alert | None:
        """The alert if ``caller`` may see it; None if it is absent or invisible (alike)."""
        statement = _VISIBLE_BY_ID[caller.agency_kind is AgencyKind.INDUSTRY]
        params = {"alert_id": alert_id, **viewer_params(caller)}
        return self.session.exec(statement, params=params).one_or_none()

    def visible_columns(self, caller: Caller, alert_id: uuid.UUID) -> Row[Any] | None:
        """The alert's columns if ``caller`` may see it (None if absent or invisible, alike):
        for reads that only read the row."""
        statement = _VISIBLE_COLUMNS_BY_ID[caller.agency_kind is AgencyKind.INDUSTRY]
        params = {"alert_id": alert_id, **viewer_params(caller)}
        return self.session.connection().execute(statement, params).one_or_none()

    def read_visible(self, caller: Caller, alert_id: uuid.UUID) -> Row[Any] | None:
        """The alert's columns if ``caller`` may see it (read by the names of
        :class:`~exchange_api.models.alerts.Alert`'s attributes), with ``followups_seen``, how
        many of its follow-ups ``caller`` may see, and ``stage_rank``, the furthest stage among
        them (:func:`~exchange_api.alerts.stages.stage_rank`; None without a step)."""
        statement = _VISIBLE_WITH_TALLY_BY_ID[caller.agency_kind is AgencyKind.INDUSTRY]
        params = {"alert_id": alert_id, **viewer_params(caller)}
        return self.session.connection().execute(statement, params).one_or_none()

    def search(
        self, caller: Caller, filters: AlertFilters, *, before: uuid.UUID | None, limit: int
    ) -> Sequence[Row[Any]]:
        """Up to ``limit`` visible alerts matching ``filters``, newest first, below ``before``:
        their routing facts only, read by the names of
        :class:`~exchange_api.models.alerts.Alert`'s attributes."""
        statement, values = search_statement(caller, filters, before=before, limit=limit)
        return self.session.connection().execute(statement, values).all()

    def tags_of(self, alert_id: uuid.UUID) -> list[tuple[str, str]]:
        """The (field, tag) pairs of an alert (whose visibility the caller has checked)."""
        statement = (
            select(col(AlertTag.field), col(AlertTag.tag))
            .where(col(AlertTag.alert_id) == alert_id)
            .order_by(col(AlertTag.field), col(AlertTag.tag))
        )
        return [(row[0], row[1]) for row in self.session.exec(statement)]

    def visible_sharing(
        self, caller: Caller, tag_field: str, tag: str, *, besides: uuid.UUID, limit: int
    ) -> list[uuid.UUID]:
        """Up to ``limit`` ids of other visible alerts with this tag, newest first."""
        statement = (
            select(col(AlertTag.alert_id))
            .join(Alert, col(Alert.id) == col(AlertTag.alert_id))
            .where(
                col(AlertTag.field) == tag_field,
                col(AlertTag.tag) == tag,
                col(AlertTag.alert_id) != besides,
                visible_to(caller),
            )
            .order_by(col(AlertTag.alert_id).desc())
            .limit(limit)
        )
        return list(self.session.exec(statement))

    def versions(self, alert_id: uuid.UUID) -> list[AlertVersionRecord]:
        """An alert's history, oldest first (whose visibility the caller has checked)."""
        statement = (
            select(AlertVersionRecord)
            .where(col(AlertVersionRecord.alert_id) == alert_id)
            .order_by(col(AlertVersionRecord.version))
        )
        return list(self.session.exec(statement))

    def visible_followups(self, caller: Caller, alert_id: uuid.UUID) -> list[FollowUp]:
        """The follow-ups of the alert that ``caller`` may see, oldest first."""
        statement = (
            select(FollowUp)
            .where(col(FollowUp.alert_id) == alert_id, followup_visible_to(caller))
            .order_by(col(FollowUp.id))
        )
        return list(self.session.exec(statement))

    def existing_agencies(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``ids`` name registered agencies."""
        wanted = list(dict.fromkeys(ids))
        found: set[uuid.UUID] = set()
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            found.update(self.session.exec(select(col(Agency.id)).where(col(Agency.id).in_(chunk))))
        return found
