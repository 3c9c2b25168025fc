"""audit resource index without a foreign key: the per-row check was most of a search's DB time

``audit_entry_resources`` is written only by the chaining step, in the transaction that inserts
the entries it points at, and neither table can lose a row (the append-only triggers of 0004).
The foreign key therefore protected nothing the triggers do not, and its check — a locking read
of the entry per index row, fifty for a search's entry — cost more database time than the rest
of the search (docs/decisions/0034).

On SQLite the table is rebuilt to drop the constraint, which drops its triggers with it: they
are created again as 0004 made them.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "audit_entry_resources"
_CONSTRAINT = "fk_audit_entry_resources_seq_audit_entries"
_REFUSAL = "the audit log is append-only"


def _sqlite_append_only() -> None:
    """The triggers 0004 gave the table on SQLite (the rebuild dropped them)."""
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_{event.lower()} BEFORE {event} ON {_TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: {event} on {_TABLE} refused'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_CONSTRAINT, _TABLE, type_="foreignkey")
        return
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(_CONSTRAINT, type_="foreignkey")
    _sqlite_append_only()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(_CONSTRAINT, _TABLE, "audit_entries", ["seq"], ["seq"])
        return
    with op.batch_alter_table(_TABLE) as batch:
        batch.create_foreign_key(_CONSTRAINT, "audit_entries", ["seq"], ["seq"])
    _sqlite_append_only()
