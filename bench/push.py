"""``exchange push`` as an agency runs it: N NDJSON alerts through the SDK's command line.

The secure app only (the command line signs in with ``private_key_jwt`` and DPoP, which the bare
baseline does not have). Its alerts/s sits beside the raw batch endpoint's of the same run: the
ratio is what the SDK costs (start-up, reading the file, tokens, proofs, the journal) over
batches sent by hand. The raw batches are sent as a careful integrator sends them, each with an
``Idempotency-Key`` of its own, and as many in flight (``--batch-concurrency``) as the push
keeps: a key makes the server store a row (the body's hash and the answer), and without one
the baseline would be spared work that the ratio would then charge to the SDK.
The command runs as its own process, like the load driver, and its whole run is timed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.apps import REPO_ROOT, AppUnderTest
from bench.corpus import AlertFactory
from bench.servers import tree_cpu_seconds

__all__ = ["measure_push"]


def _write_file(path: Path, rows: int, seed: int) -> None:
    factory = AlertFactory(seed)
    with path.open("w", encoding="utf-8") as stream:
        for _ in range(rows):
            stream.write(json.dumps(factory.alert(), separators=(",", ":")) + "\n")


def measure_push(
    app: AppUnderTest,
    workdir: Path,
    rows: int,
    in_flight: int,
    seed: int,
    postmaster: int | None = None,
) -> dict[str, Any]:
    """Push ``rows`` new alerts with ``exchange push``; the benchmark row of the run.
    ``postmaster``: the PostgreSQL server's process, whose CPU is read as for the other rows."""
    assert app.client_key is not None, "exchange push needs the secure app"
    data = workdir / f"push-{seed}.ndjson"
    _write_file(data, rows, seed)
    key = workdir / "push-client.pem"
    key.write_bytes(app.client_key.private_pem)
    key.chmod(0o600)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "EXCHANGE_URL": app.server.base_url,
        "EXCHANGE_CLIENT_ID": app.client_key.client_id,
        "EXCHANGE_KEY": str(key),
    }
    command = [sys.executable, "-m", "exchange_client.cli", "push", str(data)]
    before, cpu_before = app.stored_alerts(), tree_cpu_seconds(app.server.pid)
    db_before = tree_cpu_seconds(postmaster) if postmaster is not None else 0.0
    own_before = _children_cpu_seconds()
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--in-flight", str(in_flight)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    own_cpu = _children_cpu_seconds() - own_before
    cpu = tree_cpu_seconds(app.server.pid) - cpu_before
    db_cpu = tree_cpu_seconds(postmaster) - db_before if postmaster is not None else None
    created = app.stored_alerts() - before
    if done.returncode != 0:
        raise RuntimeError(f"exchange push failed ({done.returncode}): {done.stderr[-2000:]}")
    millis = elapsed * 1000
    return {
        "app": app.name,
        "op": "exchange_push",
        "size": rows,
        "stored": before + created,
        "unit": "alert",
        "concurrency": in_flight,
        "requests": -(-rows // 500),
        "errors": rows - created,
        "statuses": {},
        "units": created,
        "elapsed_s": elapsed,
        "throughput": created / elapsed,
        "p50_ms": millis,
        "p95_ms": millis,
        "p99_ms": millis,
        "max_ms": millis,
        "cpu_s_per_1k": cpu / created * 1000 if created else None,
        "db_cpu_s_per_1k": db_cpu / created * 1000 if created and db_cpu is not None else None,
        "driver_cpu_pct": 100 * own_cpu / elapsed,  # the command's own CPU, as the driver's
        "peak_rss_mib": None,
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
