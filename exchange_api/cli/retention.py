"""``exchange-api retention run``: shred the alerts past their review date (see
:mod:`exchange_api.alerts.retention`).

The service's workers make the same pass hourly; the command is for an operator who wants it
now, or who leaves it to cron (``EXCHANGE_RETENTION_INTERVAL=0``). Running it twice the same day
does nothing more. It prints ``{"shredded": N, "before": "<today>",
"idempotency_keys_forgotten": K}`` and records each batch as ``alert.shred`` by the operator who
ran it.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from exchange_api.alerts.retention import retention_pass
from exchange_api.audit.chain import AuditAction
from exchange_api.cli.support import Commands, add_group, database, emit, operator_recorder, say
from exchange_api.config import Settings
from exchange_api.models.types import utc_now

__all__ = ["add_retention_commands"]


def cmd_retention_run(_args: argparse.Namespace, settings: Settings) -> int:
    recorder = operator_recorder(settings)
    today = utc_now().date()
    with database(
        settings,
        refused="the database refused the retention run",
        advice="batches already done stay done; run it again",
    ) as session_factory:
        outcome = retention_pass(
            session_factory,
            today=today,
            record=recorder.batches(AuditAction.ALERT_SHRED),
            idempotency_kept=timedelta(days=settings.idempotency_key_days),
        )
    say(
        f"shredded {outcome.shredded} alerts whose review date is before {today.isoformat()}; "
        f"forgot {outcome.keys_forgotten} expired Idempotency-Keys"
    )
    emit(
        {
            "shredded": outcome.shredded,
            "before": today.isoformat(),
            "idempotency_keys_forgotten": outcome.keys_forgotten,
        }
    )
    return 0


def add_retention_commands(commands: Commands) -> None:
    """Add ``retention run`` to the ``exchange-api`` parser."""
    retention = add_group(commands, "retention", help="destroy alert content past its review date")
    run = retention.add_parser("run", help="shred every alert whose review date has passed, now")
    run.set_defaults(handler=cmd_retention_run)
