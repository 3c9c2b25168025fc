"""``exchange-api serve`` with two workers: a burst of keep-alive clients is spread over both,
also after a worker is killed and replaced.

Which worker answered is read from the access log (each JSON line carries its process id),
matched to the request by the ``X-Request-ID`` the test sends — nothing in the response says.

The burst arrives while both workers are busy — held with ``SIGSTOP``, so that every run sees
the same thing — and they then wake one after the other: with one socket shared by the workers
(uvicorn's way), the first to wake accepts every queued connection and keeps it, which is what a
soak saw (50 connections on one worker, none on the other).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from exchange_api.serving import reuseport_group
from tests.audit.processes import served, service_env

CLIENTS = 50
REQUESTS_EACH = 4
# Of 50 connections hashed over two sockets, fewer than 10 on one happens about once in 50,000
# runs; one shared socket gives nearly all of a burst to one worker.
MIN_CONNECTIONS_EACH = 10


def worker_of_request(log: Path) -> dict[str, int]:
    """``request id -> pid`` of every request in the server's access log."""
    answered: dict[str, int] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry["logger"] == "exchange_api.access" and "request_id" in entry:
            answered[entry["request_id"]] = entry["pid"]
    return answered


async def burst(url: str, label: str) -> list[list[str]]:
    """``CLIENTS`` clients, each with one keep-alive connection, connecting at the same moment;
    each then sends more requests on its connection. The request ids each client sent."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for _ in range(CLIENTS)]
    sent: list[list[str]] = [[] for _ in clients]
    try:

        async def call(index: int, number: int) -> None:
            request_id = f"{label}-{index}-{number}"
            response = await clients[index].get("/healthz", headers={"X-Request-ID": request_id})
            assert response.status_code == 200
            sent[index].append(request_id)

        for number in range(REQUESTS_EACH):
            await asyncio.gather(*(call(index, number) for index in range(CLIENTS)))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return sent


def workers_of(supervisor: int) -> list[int]:
    """The pids of the uvicorn workers under ``supervisor`` (Linux ``/proc``)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = []
    for pid in children:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(int(pid))
        except FileNotFoundError:
            continue
    return workers


async def burst_while_busy(url: str, label: str, workers: list[int]) -> list[list[str]]:
    """:func:`burst` while the workers are stopped; then each is woken, a moment apart."""
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        sending = asyncio.create_task(burst(url, label))
        await asyncio.sleep(1)  # every client connected (the kernel queues), its request sent
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
            await asyncio.sleep(0.3)
    return await sending


def connections_per_worker(log: Path, sent: list[list[str]]) -> Counter[int]:
    """How many of the clients' connections each worker served (all of a connection's
    requests by one worker: the connections were kept)."""
    deadline = time.monotonic() + 10
    while True:  # a worker writes its line just after its response
        answered = worker_of_request(log)
        if all(request_id in answered for ids in sent for request_id in ids):
            break
        assert time.monotonic() < deadline, "requests missing from the access log"
        time.sleep(0.1)
    per_worker: Counter[int] = Counter()
    for ids in sent:
        workers = {answered[request_id] for request_id in ids}
        assert len(workers) == 1, "a kept connection moved between workers"
        per_worker[workers.pop()] += 1
    return per_worker


def assert_balanced(per_worker: Counter[int]) -> None:
    assert len(per_worker) == 2, f"one worker served every connection: {per_worker}"
    assert min(per_worker.values()) >= MIN_CONNECTIONS_EACH, per_worker


def wait_for_listeners(port: int, count: int, timeout: float = 60) -> None:
    """Wait until ``count`` sockets listen on ``port`` (``/proc/net/tcp``): a worker's socket
    joins the group when the worker starts listening, after the app's start-up."""
    local = f":{port:04X}"
    deadline = time.monotonic() + timeout
    while True:
        rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        if sum(1 for row in rows if row[1].endswith(local) and row[3] == "0A") >= count:
            return
        assert time.monotonic() < deadline, f"fewer than {count} sockets listen on {port}"
        time.sleep(0.2)


def wait_for_line(log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, f"no {text!r} in the log"
        time.sleep(0.2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
async def test_a_burst_of_kept_connections_reaches_both_workers_also_after_a_restart(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    env = {**service_env(database_url, keys_dir), "EXCHANGE_LOG_LEVEL": "INFO"}
    log = tmp_path / "server.log"
    with served(env, workers=2, log=log) as server:
        wait_for_line(log, "each with its own listening socket")
        wait_for_listeners(int(server.url.rsplit(":", 1)[1]), 2)
        workers = workers_of(server.process.pid)
        assert len(workers) == 2
        before = connections_per_worker(log, await burst_while_busy(server.url, "a", workers))
        assert_balanced(before)
        assert set(before) == set(workers)

        killed = workers[0]
        os.kill(killed, signal.SIGKILL)
        wait_for_line(log, f"worker [{killed}] of slot")
        await burst(server.url, "ready")  # the replacement has started serving
        workers = workers_of(server.process.pid)
        assert killed not in workers
        assert len(workers) == 2
        after = connections_per_worker(log, await burst_while_busy(server.url, "b", workers))
        assert_balanced(after)
        assert set(after) == set(workers)


def test_the_group_shares_one_port_even_when_the_kernel_picks_it() -> None:
    sockets = reuseport_group("127.0.0.1", 0, 3)
    assert sockets is not None
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        for sock in sockets:
            sock.close()


def test_a_port_in_use_is_an_error_not_a_fallback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use") as refused:
            reuseport_group("127.0.0.1", taken.getsockname()[1], 2)
    assert refused.value.errno == errno.EADDRINUSE


def test_elsewhere_the_workers_share_one_socket_and_the_log_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    logger = logging.getLogger("exchange_api.serving")
    logger.addHandler(caplog.handler)  # the app's logging does not propagate to the root
    try:
        assert reuseport_group("127.0.0.1", 0, 2) is None
    finally:
        logger.removeHandler(caplog.handler)
    assert "share one listening socket" in caplog.text
