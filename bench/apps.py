"""The two apps under test, each with its own fresh database and server process.

``bare``: :mod:`bench.bare_app` under uvicorn, schema created directly, no credentials.
``secure``: the real exchange, set up exactly as an operator would through its CLI — ``init``
(keys and migrations), ``agencies add``, ``clients add --jwks`` with a key generated here — and
served by ``exchange-api serve``. Its load runs with tokens from its own token endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import column, create_engine, func, select, table

from bench.bare_app import create_schema
from bench.servers import Database, ServerProcess, free_port
from bench.tokens import ClientKey, generate_client_key

__all__ = ["REPO_ROOT", "AppUnderTest", "start_app"]

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_SCOPES = "alerts:read alerts:write"
REPORTING_AGENCIES = (
    ("Bench Customs", "NL", "customs"),
    ("Bench Police", "BE", "law_enforcement"),
    ("Bench Customs East", "PL", "customs"),
)
"""The agencies whose clients seed the secure app's corpus in turn, so that the network's
statistics and early warning see several reporting agencies and countries (the reads run as
the first)."""


@dataclass
class AppUnderTest:
    name: str
    database: Database
    server: ServerProcess
    alerts_table: str
    env: dict[str, str]
    client_key: ClientKey | None = None
    command: Callable[[int, int], list[str]] | None = None
    """The server's command line for a port and a number of workers."""
    reporter_keys: list[ClientKey] = field(default_factory=list)
    """Clients of the other agencies that report the seeded corpus (``client_key`` is the first)."""

    def restart(self, workers: int) -> None:
        """Serve again on the same port (the secure app's issuer names it) with ``workers``."""
        assert self.command is not None
        self.server.stop()
        self.server.command = self.command(self.server.port, workers)
        self.server.start(workers)

    def stored(self, ids: list[str]) -> int:
        """How many of ``ids`` are in the app's alerts table."""
        engine = create_engine(self.database.url)
        alerts = table(self.alerts_table, column("id"))
        stored = 0
        with engine.connect() as connection:
            for start in range(0, len(ids), 1_000):
                chunk = [uuid.UUID(value) for value in ids[start : start + 1_000]]
                query = select(func.count()).select_from(alerts).where(alerts.c.id.in_(chunk))
                stored += int(connection.execute(query).scalar_one())
        engine.dispose()
        return stored

    def stored_alerts(self) -> int:
        engine = create_engine(self.database.url)
        with engine.connect() as connection:
            query = select(func.count()).select_from(table(self.alerts_table))
            stored = int(connection.execute(query).scalar_one())
        engine.dispose()
        return stored

    def analyze(self) -> None:
        """Bring the database's statistics up to date, as autovacuum (or a scheduled
        ``ANALYZE``) does within a minute of a bulk load: measured reads then run the plans a
        live service gets, not those of a planner that believes the tables empty."""
        engine = create_engine(self.database.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
        engine.dispose()

    def stop(self) -> None:
        self.server.stop()
        self.database.drop()

    def cli(self, *args: str, timeout: float = 3600) -> tuple[dict[str, Any], float]:
        """Run ``exchange-api ARGS`` against this app's database and keys."""
        return exchange_cli(self.env, *args, timeout=timeout)


def exchange_cli(
    env: dict[str, str], *args: str, timeout: float = 3600
) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "exchange_api.cli", *args],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(
            f"exchange-api {' '.join(args)} failed ({completed.returncode}): "
            f"{completed.stderr.strip()[-500:]}"
        )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return (json.loads(lines[-1]) if lines else {}), elapsed


def _start_bare(database: Database, workdir: Path, workers: int) -> AppUnderTest:
    create_schema(database.url)
    port = free_port()
    env = {"BENCH_DATABASE_URL": database.url, "PYTHONPATH": str(REPO_ROOT)}
    server = ServerProcess(_bare_command(port, workers), env, port, workdir / "bare.log")
    server.start(workers)
    return AppUnderTest("bare", database, server, "bare_alerts", env, command=_bare_command)


def _bare_command(port: int, workers: int) -> list[str]:
    # Served as `exchange-api serve` serves the exchange (bench/serve_bare.py).
    return [
        sys.executable, "-m", "bench.serve_bare",
        "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip


def _secure_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "exchange_api.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip


#: ``--limits on``: every limit enforced (counted, with headers on every answer) but too high for
#: the load to reach, so that a run measures what the limiter costs, not what it refuses.
GENEROUS_LIMITS = {
    "EXCHANGE_RATE_LIMITS": "true",
    "EXCHANGE_RATE_LIMIT_CLIENT": "999999999/hour",
    "EXCHANGE_RATE_LIMIT_ADDRESS": "999999999/hour",
    "EXCHANGE_RATE_LIMIT_GUESS": "999999999/hour",
}
NO_LIMITS = {"EXCHANGE_RATE_LIMITS": "false"}


def _start_secure(
    database: Database, workdir: Path, workers: int, limits: bool = True
) -> AppUnderTest:
    port = free_port()
    env = {
        "EXCHANGE_DATABASE_URL": database.url,
        "EXCHANGE_KEYS_DIR": str(workdir / "keys"),
        "EXCHANGE_ISSUER": f"http://127.0.0.1:{port}",
        "PYTHONPATH": str(REPO_ROOT),
        # The event runs' webhook receiver listens on loopback, in the benchmark's process.
        "EXCHANGE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        **(GENEROUS_LIMITS if limits else NO_LIMITS),
    }
    exchange_cli(env, "init")
    keys = [_register_client(env, workdir, *agency) for agency in REPORTING_AGENCIES]
    server = ServerProcess(_secure_command(port, workers), env, port, workdir / "secure.log")
    server.start(workers)
    return AppUnderTest(
        "secure", database, server, "alerts", env, keys[0], _secure_command, keys[1:]
    )


def _register_client(
    env: dict[str, str], workdir: Path, name: str, country: str, kind: str
) -> ClientKey:
    """An agency and a client of it with a fresh key, registered through the CLI."""
    agency, _ = exchange_cli(
        env, "agencies", "add", "--name", name, "--country", country, "--kind", kind
    )
    private_pem, kid, jwks_path = generate_client_key(workdir)
    client, _ = exchange_cli(
        env, "clients", "add", "--agency", str(agency["id"]), "--scopes", BENCH_SCOPES,
        "--jwks", str(jwks_path),
    )  # fmt: skip
    return ClientKey(str(client["client_id"]), private_pem, kid, BENCH_SCOPES)


def start_app(
    name: str, db_kind: str, workdir: Path, admin_url: str, workers: int, *, limits: bool = True
) -> AppUnderTest:
    """Create the app's database, set it up and start its server; the caller must ``stop()``.
    ``limits``: the secure app's rate limits on (generous) or off."""
    database = Database.create(db_kind, name, workdir, admin_url)
    try:
        if name == "bare":
            return _start_bare(database, workdir, workers)
        return _start_secure(database, workdir, workers, limits)
    except BaseException:
        database.drop()
        raise
