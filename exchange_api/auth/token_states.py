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
  change committed before it; the worker empties its cache if one came. The fence is sent from
  the event loop, and the lookups waiting at the same time share the next one, so a kept answer
  costs no trip to a worker thread;
- an answer read from the database is kept only if no notification arrived while it was being
  read, so a stale answer cannot outlive the notification of the change that made it stale.

Whenever the listening connection is not there (not connected yet, lost, or SQLite, which has no
notifications) every lookup asks the database, as before: the cache is only ever used while the
worker is certain to hear of changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any, Final

import psycopg
from psycopg import pq
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.auth import repository
from exchange_api.auth.repository import TokenState

__all__ = ["CHANNEL", "TokenStates"]

CHANNEL: Final = "exchange_token_state"
_RECONNECT_AFTER_S: Final = 5.0
_MISSING: Final = object()

_log = logging.getLogger("exchange_api.auth")


class TokenStates:
    """One worker's token states (see the module). Looked up on the event loop; the database is
    asked, and the listening connection opened, in worker threads (hence the lock)."""

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
        self._waiting: asyncio.Future[bool] | None = None  # the lookups awaiting the next fence
        self._sender: asyncio.Task[None] | None = None  # sends fences while lookups wait

    async def lookup(self, session: Session, *, client_id: str, token_id: str) -> TokenState | None:
        """What :func:`~exchange_api.auth.repository.token_state` answers now. Called on the
        event loop: a kept answer costs only the fence, sent from the loop and shared by the
        lookups waiting for it (no trip to a worker thread); the database is asked in a worker
        thread, with ``session``."""
        key = (client_id, token_id)
        listening = await self._fenced()
        generation = self._generation
        if listening:
            known = self._states.get(key, _MISSING)
            if known is not _MISSING:
                return known  # type: ignore[return-value]
        return await run_in_threadpool(self._read, session, key, generation, listening)

    def _read(
        self, session: Session, key: tuple[str, str], generation: int, listening: bool
    ) -> TokenState | None:
        """Ask the database (in a worker thread); keep the answer if nothing changed since
        ``generation`` (a notification after it would have found nothing to forget)."""
        if not listening:
            self.listen()
        client_id, token_id = key
        state = repository.token_state(session, client_id=client_id, token_id=token_id)
        with self._lock:
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

    async def _fenced(self) -> bool:
        """Wait for a fence *sent after this call began* to come back; False if there is no
        listening connection.

        The fence is an empty query on the listening connection: PostgreSQL signals a listener
        as the notifying transaction commits (before its client hears of the commit), and the
        listener's backend sends the notification at once; the answer to the empty query comes
        after it on the same connection. Without the fence, a change acknowledged a moment ago
        may still be in flight (a test saw exactly that). One fence is in flight at a time; the
        lookups that arrive meanwhile wait for the next, which they share: a fence already on
        its way when a lookup began could overtake a change committed just before it."""
        if self._listener is None:
            return False
        loop = asyncio.get_running_loop()
        waiter = self._waiting
        if waiter is None:
            waiter = self._waiting = loop.create_future()
            if self._sender is None or self._sender.done():
                self._sender = loop.create_task(self._send_fences())
        # Shielded: a lookup whose request is cancelled must not cancel the others' fence.
        return await asyncio.shield(waiter)

    async def _send_fences(self) -> None:
        while (waiter := self._waiting) is not None:
            self._waiting = None
            try:
                listening = await self._fence()
            except BaseException:
                waiter.cancel()
                raise
            waiter.set_result(listening)

    async def _fence(self) -> bool:
        """Send one fence and take in every notification before its answer; forget everything
        if there is one. False if the listening connection is not there (or broke)."""
        listener = self._listener
        if listener is None:
            return False
        try:
            pgconn = listener.pgconn
            pgconn.send_query(b"")
            while pgconn.flush():
                await _ready(pgconn.socket, writing=True)
            pgconn.consume_input()
            while pgconn.is_busy():
                await _ready(pgconn.socket, writing=False)
                pgconn.consume_input()
            answer = pgconn.get_result()
            while pgconn.get_result() is not None:
                pass
            if answer is None or answer.status != pq.ExecStatus.EMPTY_QUERY:
                raise psycopg.OperationalError(pgconn.get_error_message())
            notified = False
            while pgconn.notifies() is not None:
                notified = True
        except (psycopg.Error, OSError) as exc:  # it broke: stop trusting the cache at once
            _log.warning(
                "token state: listening connection lost; asking the database each time",
                extra={"event": {"error": type(exc).__name__}},
            )
            with self._lock:
                if self._listener is listener:
                    self._forget(None)
            return False
        if notified:
            with self._lock:
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


async def _ready(fd: int, *, writing: bool) -> None:
    """Wait on the event loop until ``fd`` can be written (or read)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if writing:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        if writing:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)
