"""Databases and server processes for one benchmark run, and what they cost in CPU and memory.

Each app gets a fresh database of its own: on PostgreSQL one this run creates on the server and
drops at the end (never any other), on SQLite a file in the run's folder. Servers are uvicorn
subprocesses bound to 127.0.0.1 on a free port; their cost is read with psutil over the whole
process tree (the uvicorn supervisor and its workers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = [
    "DEFAULT_POSTGRES_ADMIN_URL",
    "Database",
    "ServerProcess",
    "free_port",
    "postmaster_pid",
    "tree_cpu_seconds",
    "worker_processes",
]

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Database:
    """A database that exists for one app of one run, and is dropped at the end."""

    url: str
    admin_url: str | None = None
    name: str | None = None

    @classmethod
    def create(cls, kind: str, label: str, workdir: Path, admin_url: str) -> Database:
        if kind == "sqlite":
            return cls(url=f"sqlite:///{workdir / f'{label}.db'}")
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        return cls(url=url, admin_url=admin_url, name=name)

    def drop(self) -> None:
        if self.admin_url is None or self.name is None:
            return
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()

    def server_version(self) -> str:
        engine = create_engine(self.url)
        query = (
            "select sqlite_version()" if self.url.startswith("sqlite") else "show server_version"
        )
        with engine.connect() as connection:
            version = str(connection.execute(text(query)).scalar_one())
        engine.dispose()
        return version


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A uvicorn server (supervisor + workers) started as a subprocess, logs to a file."""

    command: Sequence[str]
    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, workers: int, timeout: float = 60.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.command),
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            if len(worker_processes(self.pid)) >= workers and self._healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not become ready in {timeout:.0f}s; see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process and all its descendants.

    Includes descendants that have exited (a PostgreSQL backend whose connection the pool
    closed, a restarted worker): the kernel adds a reaped child's times to its parent's
    ``children_*`` times, so summing both over the live tree counts every process once.
    """
    total = 0.0
    for process in _tree(psutil.Process(pid)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def worker_processes(supervisor_pid: int) -> list[psutil.Process]:
    """The uvicorn workers under a supervisor (or the server itself when it runs one worker).

    uvicorn spawns workers through multiprocessing; its resource tracker is a child too and is
    not a worker.
    """
    try:
        supervisor = psutil.Process(supervisor_pid)
        children = supervisor.children()
    except psutil.NoSuchProcess:
        return []
    workers = []
    for child in children:
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.NoSuchProcess:
            continue
    return workers or [supervisor]


def postmaster_pid() -> int | None:
    """The PostgreSQL postmaster's pid, whose tree holds every backend, or None if not found."""
    for process in psutil.process_iter(["name", "ppid"]):
        name = process.info["name"] or ""
        if name.startswith(("postgres", "postmaster")):
            try:
                parent_name = psutil.Process(process.info["ppid"]).name()
            except psutil.NoSuchProcess:
                continue
            if not parent_name.startswith(("postgres", "postmaster")):
                return int(process.pid)
    return None
