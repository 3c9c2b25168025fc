"""Audit entries for what an operator changes with the ``exchange-api`` command (``admin.*``),
and for the service's own scheduled changes (retention).

The command has no token, so the actor is the account that ran it, ``operator:<name>`` (the
effective user of the process: the one identity the machine vouches for); client, agency,
token and source IP are empty, and each command gets a request id of its own. Like a request's
entries, they go into the intake in the transaction of the change they record — no change
without its record — and the next sequencer pass, ``audit verify`` or an auditor's read
chains them.
"""

from __future__ import annotations

import os
import pwd
import uuid
from collections.abc import Callable, Sequence

from sqlmodel import Session

from exchange_api.audit.appender import AuditEvent, AuditLog
from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder

__all__ = ["BatchRecorder", "OperatorRecorder", "operator_name"]

BatchRecorder = Callable[[Session, Sequence[str]], None]
"""Records one batch of a long change (the ids it touched) in that batch's transaction."""


def operator_name() -> str:
    """``operator:<user name>`` of this process's effective user (its number if unnamed)."""
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return f"operator:{name}"


class OperatorRecorder:
    """Records one command's changes, all under the same request id, as ``actor`` (by default
    the operator who runs this process; the service's own jobs name themselves)."""

    def __init__(self, log: AuditLog, *, actor: str | None = None) -> None:
        self._log = log
        self._actor = actor if actor is not None else operator_name()
        self._request_id = str(uuid.uuid4())

    def for_session(self, session: Session) -> AuditRecorder:
        """A recorder for the services the command calls in ``session``'s transaction (they
        record their own changes); call its ``flush`` before committing."""
        identity = AuditIdentity(actor=self._actor)
        return AuditRecorder(
            self._log,
            session,
            request_id=self._request_id,
            source_ip=None,
            identity=lambda: identity,
        )

    def record(
        self,
        session: Session,
        action: AuditAction,
        *,
        resource_ids: Sequence[str | uuid.UUID] = (),
        result_count: int | None = None,
    ) -> None:
        """Put ``action`` in the intake, in ``session``'s transaction."""
        event = AuditEvent(
            action=action,
            outcome=Outcome.ALLOWED,
            actor=self._actor,
            client_id=None,
            agency=None,
            token_id=None,
            request_id=self._request_id,
            source_ip=None,
            resource_ids=tuple(str(resource_id) for resource_id in resource_ids),
            result_count=result_count,
        )
        self._log.submit(session, [event])

    def batches(self, action: AuditAction) -> BatchRecorder:
        """One ``action`` entry per batch, naming what the batch touched and how many."""

        def record(session: Session, resource_ids: Sequence[str]) -> None:
            self.record(session, action, resource_ids=resource_ids, result_count=len(resource_ids))

        return record
