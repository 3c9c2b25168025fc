"""Serving with uvicorn: with several workers on Linux, one listening socket per worker.

uvicorn's supervisor binds one socket and hands it to every worker. Linux then wakes whichever
worker is first to ``accept``, and asyncio accepts up to a backlog's worth of connections per
wake-up: under a burst of keep-alive clients one worker takes nearly all of them and keeps them
for their lifetime (measured: 50 clients, one worker at 90 % of a core, the other at 0.8 %).

Here the supervisor instead binds one socket per worker *slot*, all with ``SO_REUSEPORT`` on the
same address, and gives slot *i*'s socket to worker *i* and to every worker that replaces it.
The kernel then spreads new connections over the slots by a hash of their addresses, whatever
the workers are doing. Why the supervisor, rather than each worker binding its own
(docs/decisions/0025-a-listening-socket-per-worker.md): the supervisor's copy keeps the slot's
socket listening while its worker is being replaced, so connections hashed to it wait in its
queue for the replacement instead of being reset, and a port chosen by the kernel (``--port 0``)
is the same for every slot.

Elsewhere (not Linux, one worker, or a kernel that refuses ``SO_REUSEPORT``) it serves as uvicorn
does, with one shared socket, and says so in the log.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["PerWorkerSockets", "reuseport_group", "serve"]

_log = logging.getLogger("exchange_api.serving")


def serve(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Run ``app`` (an import string) like ``uvicorn.run``, with a socket per worker where
    Linux allows it. ``options`` are uvicorn's :class:`~uvicorn.config.Config` arguments."""
    if workers < 2:
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    config = Config(app, host=host, port=port, workers=workers, **options)
    try:
        sockets = reuseport_group(host, port, workers)
    except OSError as exc:
        _log.error("cannot listen on %s:%d: %s", host, port, exc.strerror or exc)
        sys.exit(STARTUP_FAILURE)
    try:
        if sockets is None:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            PerWorkerSockets(config, sockets).run()
    except KeyboardInterrupt:  # pragma: no cover - the supervisor handles SIGINT itself
        pass


def reuseport_group(host: str, port: int, count: int) -> list[socket.socket] | None:
    """``count`` sockets bound to ``host:port`` in one ``SO_REUSEPORT`` group, or None (and a
    log line) where the kernel would not spread connections over them.

    Raises :class:`OSError` if the address itself cannot be bound (in use, not ours)."""
    reason = _no_balancing_reason()
    if reason is None:
        try:
            return _bind_group(host, port, count)
        except _ReusePortRefused as exc:
            reason = f"the kernel refuses SO_REUSEPORT ({exc})"
    _log.warning(
        "workers share one listening socket: %s; a burst of keep-alive clients may all go to "
        "one worker",
        reason,
    )
    return None


def _no_balancing_reason() -> str | None:
    # Only Linux balances a reuseport group: on the BSDs and macOS the option exists but the
    # newest socket takes every connection.
    if not sys.platform.startswith("linux"):
        return f"SO_REUSEPORT does not balance connections on {sys.platform}"
    if not hasattr(socket, "SO_REUSEPORT"):
        return "this Python has no SO_REUSEPORT"
    return None


class _ReusePortRefused(Exception):
    pass


def _bind_group(host: str, port: int, count: int) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_bind_reuseport(host, port))
            # Port 0: the kernel chose one for the first socket; the others join it there.
            port = sockets[0].getsockname()[1]
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _bind_reuseport(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        except OSError as exc:
            raise _ReusePortRefused(exc.strerror or str(exc)) from None
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class PerWorkerSockets(Multiprocess):
    """uvicorn's supervisor (restarts a dead worker, ``SIGHUP`` restarts all, ``SIGTTIN`` /
    ``SIGTTOU`` add or remove one, ``SIGINT``/``SIGTERM`` stop gracefully), except that worker
    *i* and its replacements listen on slot *i*'s socket only.

    Overrides the methods of uvicorn 0.54's ``Multiprocess`` that start a worker: each is the
    original with the slot's socket in place of the shared list."""

    def __init__(self, config: Config, slots: list[socket.socket]) -> None:
        super().__init__(config, sockets=[])
        self.slots = slots
        port = slots[0].getsockname()[1]
        _log.info("%d workers, each with its own listening socket on port %d", len(slots), port)

    def _start_worker(self, slot: int) -> Process:
        process = Process(self.config, [self.slots[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start_worker(slot) for slot in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # Broken app or settings: every replacement would fail the same way.
                _log.error("worker [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():  # pragma: no cover - a signal during the check
                return
            _log.warning("worker [%s] of slot %d died; starting another", process.pid, slot)
            self.processes[slot] = self._start_worker(slot)

    def restart_all(self) -> None:
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._start_worker(slot)
            timeout = self.config.timeout_worker_healthcheck
            if not new.wait_until_ready(timeout, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    _log.error("worker [%s] not ready in time; restart aborted", new.pid)
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        port = self.slots[0].getsockname()[1]
        self.slots.append(_bind_reuseport(self.config.host, port))
        self.processes_num += 1
        self.processes.append(self._start_worker(len(self.slots) - 1))

    def handle_ttou(self) -> None:
        if self.processes_num <= 1:
            return
        super().handle_ttou()
        # Its worker is gone: a socket left open would take connections nobody accepts.
        self.slots.pop().close()

    def run(self) -> None:
        try:
            super().run()
        finally:
            for sock in self.slots:
                sock.close()
