"""Token state without a query per request: a per-worker cache that PostgreSQL empties.

Every request needs what the database says of its token's client (there, not disabled, enabled
again since when, its agency and the agency's kind) and of the token itself (revoked?):
:func:`~exchange_api.auth.repository.token_state`. That answer changes only when a client, an
agency or the revocations change — rarely — so a worker keeps the answers, by client and token
id, and lets the database tell it when to forget them (docs/decisions/0026-token-state-pushed.md):

- triggers (migration 0015) send ``NOTIFY exchange_token_state`` from the transaction of *any*
  change to ``clients``, ``agencies`` or ``revoked_tokens``, whichever code (or operator's SQL)
  makes it; PostgreSQL delivers it to every listener when that transaction commits;
- each worker holds one extra connection listening on that channel, and before every
  lookup sends it an empty query — the cheapest round trip PostgreSQL answers, through libpq
  directly, with no SQL to plan and no ORM — whose answer comes after every notification of a
  change committed before it; the worker empties its cache if one came;
- an answer read from the database is kept only if no notification arrived while it was being
  read, so a stale answer cannot outlive the notification of the change that made it stale.

Whenever the listening connection is not there (not connected yet, lost, or SQLite, which has no
notifications) every lookup asks the database, as before: the cache is only ever used while the
worker is certain to hear of changes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Final

import psycopg
from psycopg import pq
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from exchange_api.auth import repository
from exchange_api.auth.repository import TokenState

__all__ = ["CHANNEL", "TokenStates"]

CHANNEL: Final = "exchange_token_state"
_RECONNECT_AFTER_S: Final = 5.0
_MISSING: Final = object()

_log = logging.getLogger("exchange_api.auth")


class TokenStates:
    """One worker's token states (see the module). Thread-safe: requests run in threads."""

    def __init__(self, listen_url: str | None, *, max_entries: int = 10_000) -> None:
        """``listen_url``: a libpq connection URL for the listening connection, or None
        (SQLite) to ask the database every time."""
        self._listen_url = listen_url
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], TokenState | None] = {}
        self._generation = 0
        self._listener: Any = None  # a psycopg.Connection while listening
        self._next_attempt = 0.0

    def lookup(self, session: Session, *, client_id: str, token_id: str) -> TokenState | None:
        """What :func:`~exchange_api.auth.repository.token_state` answers now."""
        key = (client_id, token_id)
        with self._lock:
            listening = self._drain()
            generation = self._generation
            known = self._states.get(key, _MISSING) if listening else _MISSING
        if known is not _MISSING:
            return known  # type: ignore[return-value]
        if not listening:
            self.listen()
        state = repository.token_state(session, client_id=client_id, token_id=token_id)
        with self._lock:
            # Kept only if nothing changed since the lookup began (a notification after it
            # would have found nothing to forget).
            if self._listener is not None and self._generation == generation:
                if len(self._states) >= self._max_entries:
                    self._states.clear()  # tokens live minutes: bounded, not clever
                self._states[key] = state
        return state

    @classmethod
    def for_database(cls, database_url: str | URL) -> TokenStates:
        """Cached and pushed on PostgreSQL; asked every time elsewhere."""
        url = make_url(database_url)
        if url.get_backend_name() != "postgresql":
            return cls(None)
        return cls(url.set(drivername="postgresql").render_as_string(hide_password=False))

    def close(self) -> None:
        with self._lock:
            self._forget(None)

    def _drain(self) -> bool:
        """Take in every notification of a change committed before this call; forget
        everything if there is one. False if there is no listening connection (under the lock).

        An empty query on the listening connection is the fence: PostgreSQL signals a listener
        as the notifying transaction commits (before its client hears of the commit), and the
        listener's backend sends the notification at once; the answer to the empty query comes
        after it on the same connection. Without the fence, a change acknowledged a moment
        ago may still be in flight (a test saw exactly that)."""
        listener = self._listener
        if listener is None:
            return False
        try:
            pgconn = listener.pgconn
            result = pgconn.exec_(b"")
            if result.status != pq.ExecStatus.EMPTY_QUERY:
                raise psycopg.OperationalError(pgconn.get_error_message())
            notified = False
            while pgconn.notifies() is not None:
                notified = True
        except psycopg.Error as exc:  # the connection broke: stop trusting the cache at once
            _log.warning(
                "token state: listening connection lost; asking the database each time",
                extra={"event": {"error": type(exc).__name__}},
            )
            self._forget(None)
            return False
        if notified:
            self._states.clear()
            self._generation += 1
        return True

    def listen(self) -> None:
        """Open the listening connection (at start-up; again on a lookup once it is lost, at
        most every few seconds). Until it is open, every lookup asks the database."""
        if self._listen_url is None:
            return
        with self._lock:
            if self._listener is not None or time.monotonic() < self._next_attempt:
                return
            self._next_attempt = time.monotonic() + _RECONNECT_AFTER_S
        try:
            listener = psycopg.connect(self._listen_url, autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:
            _log.warning(
                "token state: cannot listen for changes; asking the database each time",
                extra={"event": {"error": type(exc).__name__}},
            )
            return
        with self._lock:
            self._forget(listener)

    def _forget(self, listener: Any) -> None:
        """Install ``listener`` (or none) with an empty cache; under the lock."""
        if self._listener is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._listener.close()
        self._listener = listener
        self._states.clear()
        self._generation += 1
