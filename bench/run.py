"""Run the benchmark: ``python -m bench [flags]`` (``make bench`` runs the quick default).

It starts both apps (bare and secure), each on a fresh database of its own, seeds them through
the batch endpoint up to each size and measures the reads at that size, then the writes, a mixed
run for worker memory over time and, for the secure app, ``exchange-api audit verify``. Only one
app is under load at a time: for each operation the apps are measured back to back. Load comes
from a separate driver process (:mod:`bench.driver`). Results go to ``bench/results/latest.json``
and ``latest.md``; progress goes to stderr.

Capacity: ``burst`` reads by id from ``--burst-clients`` keep-alive clients that connect at the
same moment, and reports each worker's share of the requests and of the CPU; ``scaling`` runs
the same with one worker and then with ``--workers`` (served again on the same port). Both apps
are served the same way (``exchange_api.serving``). ``--soak`` (``make bench-soak``) runs the
secure app alone for 10 minutes: 50 such clients, mixed operations, then every acknowledged alert
looked up in the database, ``audit verify``, and each worker's memory over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from bench import events
from bench.apps import REPO_ROOT, AppUnderTest, start_app
from bench.audit_fill import fill_audit_log
from bench.driver import LoadSpec
from bench.memory import MemorySampler, flatness
from bench.profile import Profiler
from bench.push import measure_push
from bench.report import evaluate_targets, render_markdown, replace_readme_table
from bench.servers import DEFAULT_POSTGRES_ADMIN_URL, postmaster_pid
from exchange_api.config import Settings

__all__ = ["main"]

READ_OPS = ("get_by_id", "search_substance", "search_route", "search_party")
SEARCH_OPS = ("search_substance", "search_route", "search_party")
WRITE_OPS = ("post_single", "batch")
FOLLOWUP_OPS = ("followup_create", "followups_list")
STATS_OPS = (
    "stats_network_substance",
    "stats_network_month",
    "stats_visible_substance",
    "stats_visible_month",
    "emerging",
)
# The event feed: the secure app alone (the bare baseline has no events).
EVENT_OPS = ("watch_lists", "event_latency", "webhook_fanout", "listeners")
WATCH_LISTS = 10_000
"""Stored watch lists (on substances no posted alert has) for ``watch_lists``."""
FANOUT_PROFILE_S = 70
"""The longest a fan-out is sampled: its 60 s wait and some (sampling stops when it is over)."""
FOLLOWUPS_LISTED = 50
"""How many follow-ups the alert of ``followups_list`` has: one full page."""
# GET by id from many keep-alive clients that connect at once: how the workers share them
# (``burst``), and one worker against ``--workers`` (``scaling``).
CAPACITY_OPS = ("burst", "scaling")
ALL_OPS = (
    *READ_OPS,
    *STATS_OPS,
    *WRITE_OPS,
    "exchange_push",
    *FOLLOWUP_OPS,
    *EVENT_OPS,
    *CAPACITY_OPS,
    "memory",
    "audit_verify",
)
# Not in the default run: ``--soak`` (10 minutes).
KNOWN_OPS = (*ALL_OPS, "soak")
SEED_BATCHES_IN_FLIGHT = 4
SAMPLES_KEPT = 5_000


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Session:
    """One app's part of a run: its server, what seeding created, and the rows measured."""

    def __init__(self, app: AppUnderTest, args: argparse.Namespace, workdir: Path) -> None:
        self.app = app
        self.args = args
        self.workdir = workdir
        self.sampler = MemorySampler(app.server.pid)
        self.postmaster = postmaster_pid() if args.db == "postgres" else None
        self.sample_ids: list[str] = []
        self.sample_parties: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.stored = 0
        self.db_version = ""
        self._specs = 0

    def load(self, op: str, **overrides: Any) -> dict[str, Any]:
        """Run the driver process once and return its result."""
        spec = LoadSpec(
            base_url=self.app.server.base_url,
            op=op,
            concurrency=self.args.concurrency,
            duration_s=self.args.duration,
            max_requests=self.args.max_requests,
            warmup_s=self.args.warmup,
            seed=self.args.seed,
            batch_size=self.args.batch_size,
            server_pid=self.app.server.pid,
            postmaster_pid=self.postmaster,
            client_key=self.app.client_key.to_json() if self.app.client_key else None,
            reporter_keys=[key.to_json() for key in self.app.reporter_keys],
            sample_ids=self.sample_ids,
            sample_parties=self.sample_parties,
        )
        for name, value in overrides.items():
            setattr(spec, name, value)
        self._specs += 1
        path = self.workdir / f"spec-{self.app.name}-{self._specs}.json"
        path.write_text(json.dumps(asdict(spec)), encoding="utf-8")
        completed = subprocess.run(
            [sys.executable, "-m", "bench.driver", str(path)],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"driver failed for {op}: {completed.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
        if result["errors"]:
            say(f"  {op}: {result['errors']} errors, e.g. {result['error_samples'][:2]}")
        return result

    def seed_to(self, size: int) -> None:
        missing = size - self.stored
        if missing <= 0:
            return
        batch_size = self.args.batch_size
        batches = math.ceil(missing / batch_size)
        say(f"{self.app.name}: seeding {batches * batch_size:,} alerts to reach {size:,}")
        result = self.load(
            "seed",
            concurrency=min(SEED_BATCHES_IN_FLIGHT, batches),
            duration_s=float(24 * 3600),
            max_requests=batches,
            warmup_s=0.0,
            seed=self.args.seed + self.stored,
            keep_samples=SAMPLES_KEPT,
        )
        if result["errors"]:
            raise RuntimeError(f"seeding failed: {result['error_samples'][:2]}")
        rate = result["units"] / result["elapsed_s"]
        say(f"{self.app.name}: seeded {result['created']:,} at {rate:,.0f} alerts/s")
        self.sample_ids = (result["sample_ids"] + self.sample_ids)[:SAMPLES_KEPT]
        self.sample_parties = (result["sample_parties"] + self.sample_parties)[:SAMPLES_KEPT]
        self.stored = self.app.stored_alerts()
        self.app.analyze()  # both apps alike

    def concurrency_of(self, op: str) -> int:
        """Clients for an operation: searches run at a latency-probing level, batches at a
        few in flight (each is 500 alerts), everything else at the main level."""
        if op in SEARCH_OPS or op in STATS_OPS:
            return int(self.args.search_concurrency)
        if op == "batch":
            return int(self.args.batch_concurrency)
        return int(self.args.concurrency)

    def profiler(self, op: str, size: int, seconds: float, turn: int) -> Profiler:
        """py-spy sampling the server for at most ``seconds`` (``--profile``)."""
        folder = self.args.out / "profiles"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = f"-round{turn + 1}" if turn else ""
        path = folder / f"{self.app.name}-{op}-{size}{suffix}.txt"
        return Profiler(self.app.server.pid, seconds, path)

    def measure(self, op: str, size: int, turn: int = 0, **overrides: Any) -> dict[str, Any]:
        """Run ``op`` (or ``driver_op``, under the name ``op``) and add its row; ``turn``: which
        of the operation's rounds this is (``--rounds``), counted from 0."""
        seconds = self.args.warmup + self.args.duration + 2
        profiler = self.profiler(op, size, seconds, turn) if self.args.profile else None
        driver_op = overrides.pop("driver_op", op)
        concurrency = self.concurrency_of(driver_op)
        result = self.load(driver_op, **{"concurrency": concurrency, **overrides})
        start, end = result["window"]
        in_alerts = driver_op == "batch"
        unit = "alert" if in_alerts else "req"
        units = result["units"] if in_alerts else result["requests"] - result["errors"]
        elapsed = result["elapsed_s"]
        row = {
            "app": self.app.name,
            "op": op,
            "size": size,
            "round": turn,
            "stored": self.stored,
            "unit": unit,
            "concurrency": result["concurrency"],
            "requests": result["requests"],
            "errors": result["errors"],
            "statuses": result["statuses"],
            "units": units,
            "elapsed_s": elapsed,
            "throughput": units / elapsed if elapsed else 0.0,
            "p50_ms": result["latency_ms"]["p50"],
            "p95_ms": result["latency_ms"]["p95"],
            "p99_ms": result["latency_ms"]["p99"],
            "max_ms": result["latency_ms"]["max"],
            "cpu_s_per_1k": _per_1k(result["server_cpu_s"], units),
            "db_cpu_s_per_1k": _per_1k(result["db_cpu_s"], units) if self.postmaster else None,
            "driver_cpu_pct": result["driver_cpu_s"] / elapsed * 100 if elapsed else None,
            "peak_rss_mib": self.sampler.peak_mib(start, end),
            "workers": result["workers"],
        }
        if profiler is not None:
            row["profile"] = profiler.finish()
        self.rows.append(row)
        if driver_op in WRITE_OPS:
            self.stored = self.app.stored_alerts()
        say(
            f"{self.app.name} {op} @{size:,}: {row['throughput']:,.0f} {unit}/s, "
            f"p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
            f"server CPU {_two_places(row['cpu_s_per_1k'])} s/1k; workers' shares "
            f"{_shares(row['workers'])}"
        )
        return row

    def burst(self, size: int) -> None:
        """GET by id from ``--burst-clients`` clients that connect at the same moment and keep
        their connections: each worker's share of the requests and of the CPU."""
        self.measure(
            "burst", size, driver_op="get_by_id", concurrency=self.args.burst_clients,
            one_connection_each=True,
        )  # fmt: skip

    def scaling(self, size: int) -> None:
        """The burst's GET by id with one worker, then with ``--workers`` (served again on the
        same port and database each time): how much a second worker adds."""
        many = self.args.workers
        self._serve_with(1)
        one = self.measure(
            "scaling_one_worker", size, driver_op="get_by_id", concurrency=self.args.burst_clients,
            one_connection_each=True,
        )  # fmt: skip
        self._serve_with(many)
        row = self.measure(
            "scaling", size, driver_op="get_by_id", concurrency=self.args.burst_clients,
            one_connection_each=True,
        )  # fmt: skip
        row["one_worker_throughput"] = one["throughput"]
        row["speedup"] = row["throughput"] / one["throughput"] if one["throughput"] else None
        self.rows.remove(one)
        say(f"{self.app.name}: {many} workers give {row['speedup']:.2f}x one worker")

    def _serve_with(self, workers: int) -> None:
        self.app.restart(workers)
        self.sampler.supervisor_pid = self.app.server.pid

    def soak(self) -> dict[str, Any]:
        """``--soak-clients`` keep-alive clients connecting at once, mixed operations for
        ``--soak-duration`` seconds; then every acknowledged alert is looked up in the database,
        the audit log is verified, and each worker's memory over the run is summarised."""
        duration, clients = self.args.soak_duration, self.args.soak_clients
        say(f"{self.app.name}: soak, {clients} clients for {duration:.0f} s")
        result = self.load(
            "mixed", concurrency=clients, duration_s=duration, max_requests=10**9,
            one_connection_each=True, keep_created=True,
        )  # fmt: skip
        start, end = result["window"]
        created = result["created_ids"]
        stored = self.app.stored(created)
        memory = {str(pid): flatness(s) for pid, s in self.sampler.between(start, end).items()}
        summary: dict[str, Any] = {
            "app": self.app.name,
            "clients": clients,
            "duration_s": result["elapsed_s"],
            "requests": result["requests"],
            "errors": result["errors"],
            "throughput": result["requests"] / result["elapsed_s"],
            "latency_ms": result["latency_ms"],
            "acknowledged": len(created),
            "stored": stored,
            "workers": result["workers"],
            "memory": memory,
        }
        if self.app.name == "secure":
            output, _ = self.app.cli("audit", "verify")
            summary["audit_verify"] = output
        say(
            f"soak: {summary['throughput']:,.0f} req/s, p50 {result['latency_ms']['p50']:.1f} ms, "
            f"{result['errors']} errors, {stored:,}/{len(created):,} acknowledged alerts stored, "
            f"workers' shares {_shares(result['workers'])}"
        )
        return summary

    def push(self, size: int) -> None:
        """``exchange push`` of ``--push-rows`` new alerts (see :mod:`bench.push`); with
        ``batch`` in the run, the batch endpoint is measured again right after it
        (``batch_after_push``), so that the push is compared with the batch endpoint on both
        sides of it: a long push outlasts a change in what else loads the machine."""
        args = self.args
        row = measure_push(
            self.app,
            self.workdir,
            args.push_rows,
            args.batch_concurrency,
            args.seed + self.stored,
            self.postmaster,
        )
        self.rows.append(row)
        self.stored = row["stored"]
        say(f"{self.app.name} exchange_push: {row['throughput']:,.0f} alert/s")
        if "batch" in args.only:
            self.measure("batch_after_push", size, driver_op="batch")

    def give_followups(self) -> None:
        """Give the first sample alert the follow-ups ``followups_list`` reads, one by one as an
        agency would add them."""
        result = self.load(
            "followup_create",
            concurrency=1,
            duration_s=float(3600),
            max_requests=FOLLOWUPS_LISTED,
            warmup_s=0.0,
            sample_ids=self.sample_ids[:1],
        )
        if result["errors"]:
            raise RuntimeError(f"adding follow-ups failed: {result['error_samples'][:2]}")

    def watch_lists(self, size: int) -> None:
        """Single POST with no watch list stored, then with ``--watch-lists`` of them on other
        substances, back to back: what matching every new alert against them costs."""
        self.measure("post_single_lists_0", size, driver_op="post_single")
        count = self.args.watch_lists
        say(f"{self.app.name}: storing {count:,} watch lists")
        result = self.load(
            "watch_list_create", duration_s=float(3600), max_requests=count, warmup_s=0.0
        )
        if result["errors"]:
            raise RuntimeError(f"storing watch lists failed: {result['error_samples'][:2]}")
        row = self.measure("post_single_lists_n", size, driver_op="post_single")
        row["watch_lists"] = count

    def event_latency(self, size: int) -> None:
        rows = asyncio.run(
            events.event_latency(
                self.app.server.base_url, self._key(), size, self.args.duration, self.args.seed
            )
        )
        self.rows += rows
        for row in rows:
            say(f"{row['op']}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms")

    def webhook_fanout(self, size: int) -> None:
        row = asyncio.run(
            events.webhook_fanout(
                self.app.server.base_url,
                self._key(),
                size,
                self.args.seed,
                self.args.fanout_lists,
                partial(self.profiler, "webhook_fanout", size, FANOUT_PROFILE_S)
                if self.args.profile
                else None,
            )
        )
        self.rows.append(row)
        say(
            f"webhook fan-out: {row['requests']:,} of {row['lists']:,} delivered, the last "
            f"{row['elapsed_s']:.2f} s after the 201"
        )

    def listeners(self, size: int) -> dict[str, Any]:
        summary = asyncio.run(
            events.listeners(
                self.app.server.base_url,
                self._key(),
                self.app.server.pid,
                self.args.duration,
                self.args.seed,
                self.args.listeners,
            )
        )
        say(f"listeners: {summary}")
        return summary

    def _key(self) -> dict[str, Any]:
        assert self.app.client_key is not None, "events are measured on the secure app only"
        return self.app.client_key.to_json()

    def memory_run(self) -> dict[str, Any]:
        duration = self.args.memory_duration
        say(f"{self.app.name}: mixed load for {duration:.0f} s (worker memory over time)")
        result = self.load("mixed", duration_s=duration, max_requests=10**9)
        start, end = result["window"]
        workers = {
            str(pid): flatness(series) for pid, series in self.sampler.between(start, end).items()
        }
        drifts = [abs(w["drift_pct"]) for w in workers.values() if w["drift_pct"] is not None]
        return {
            "duration_s": result["elapsed_s"],
            "requests": result["requests"],
            "errors": result["errors"],
            "workers": workers,
            "max_abs_drift_pct": max(drifts) if drifts else None,
        }

    def audit_verify(self) -> None:
        if self.args.audit_entries:
            settings = Settings(
                database_url=self.app.env["EXCHANGE_DATABASE_URL"],
                keys_dir=Path(self.app.env["EXCHANGE_KEYS_DIR"]),
                issuer=self.app.env["EXCHANGE_ISSUER"],
            )
            say(f"audit log: appending entries up to {self.args.audit_entries:,}")
            client_id = self.app.client_key.client_id if self.app.client_key else "bench"
            added = fill_audit_log(settings, self.args.audit_entries, client_id)
            say(f"audit log: {added:,} entries appended")
        try:
            output, elapsed = self.app.cli("audit", "verify")
        except RuntimeError as exc:
            say(f"audit verify not measured: {exc}")
            return
        entries = _entries_checked(output)
        self.rows.append(
            {
                "app": self.app.name,
                "op": "audit_verify",
                "size": entries,
                "stored": self.stored,
                "unit": "entry",
                "concurrency": 1,
                "requests": 1,
                "errors": 0 if output.get("ok", True) else 1,
                "statuses": {},
                "units": entries,
                "elapsed_s": elapsed,
                "throughput": entries / elapsed,
                "p50_ms": elapsed * 1000,
                "p95_ms": elapsed * 1000,
                "p99_ms": elapsed * 1000,
                "max_ms": elapsed * 1000,
                "cpu_s_per_1k": None,
                "db_cpu_s_per_1k": None,
                "driver_cpu_pct": None,
                "peak_rss_mib": None,
                "verify_output": output,
            }
        )
        say(f"audit verify: {entries:,} entries in {elapsed:.1f} s ({entries / elapsed:,.0f}/s)")


def _shares(workers: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{w['request_share'] * 100:.0f} % req / {w['cpu_share'] * 100:.0f} % CPU"
        for w in workers
        if "request_share" in w
    )


def _entries_checked(output: dict[str, Any]) -> int:
    for key in ("entries", "entries_checked", "checked", "count", "last_seq", "seq"):
        if isinstance(output.get(key), int):
            return int(output[key])
    raise RuntimeError(f"cannot tell how many entries `audit verify` checked: {output}")


def _two_places(value: float | None) -> str:
    """A figure for the progress line; none when nothing completed in the window (a request
    slower than the window)."""
    return "-" if value is None else f"{value:.2f}"


def _per_1k(cpu_s: float, units: int) -> float | None:
    return cpu_s / units * 1000 if units else None


def _start_sessions(args: argparse.Namespace, workdir: Path, sessions: list[Session]) -> None:
    for name in args.apps:
        say(f"{name}: starting ({args.db}, {args.workers} workers)")
        app = start_app(
            name, args.db, workdir, args.postgres_url, args.workers, limits=args.limits == "on"
        )
        session = Session(app, args, workdir)
        sessions.append(session)
        session.db_version = app.database.server_version()
        session.sampler.start()


def _measure_all(args: argparse.Namespace, sessions: list[Session]) -> dict[str, Any]:
    """Every operation on every app, the apps back to back for each operation: a ratio then
    compares two measurements a few seconds apart, whatever else the machine is doing."""
    for size in args.sizes:
        for session in sessions:
            session.seed_to(size)
        for op in READ_OPS:
            if op in args.only:
                for turn in range(args.rounds):
                    # The apps take turns to go first: a drift in what else loads the machine
                    # over the rounds weighs on both alike.
                    for session in sessions if turn % 2 == 0 else sessions[::-1]:
                        session.measure(op, size, turn)
        for op in STATS_OPS:
            if op in args.only:
                for session in sessions:
                    session.measure(op, size)
    for op in WRITE_OPS:
        if op in args.only:
            for session in sessions:
                session.measure(op, args.sizes[-1])
    if "exchange_push" in args.only:
        for session in sessions:
            if session.app.name == "secure":
                session.push(args.sizes[-1])
    if "followups_list" in args.only:
        for session in sessions:
            session.give_followups()
    for op in FOLLOWUP_OPS:
        if op in args.only:
            for session in sessions:
                session.measure(op, args.sizes[-1])
    for session in sessions:
        if session.app.name == "secure":
            for op in EVENT_OPS:
                if op in args.only:
                    found = getattr(session, op)(args.sizes[-1])
                    if op == "listeners":
                        args.listener_results.append(found)
    for op in CAPACITY_OPS:
        if op in args.only:
            for session in sessions:
                getattr(session, op)(args.sizes[-1])
    if "soak" in args.only:
        for session in sessions:
            args.soak_results.append(session.soak())
    memory: dict[str, Any] = {}
    for session in sessions:
        if "memory" in args.only and session.app.name in args.memory_apps:
            memory[session.app.name] = session.memory_run()
        if "audit_verify" in args.only and session.app.name == "secure":
            session.audit_verify()
    return memory


def run_apps(args: argparse.Namespace, workdir: Path) -> tuple[list[Session], dict[str, Any]]:
    """Start every app (each idle while another is measured), measure, stop them all."""
    sessions: list[Session] = []
    try:
        _start_sessions(args, workdir, sessions)
        return sessions, _measure_all(args, sessions)
    except BaseException:
        for session in sessions:
            path = session.app.server.log_path
            log = path.read_text(encoding="utf-8", errors="replace").splitlines()
            say(f"{session.app.name}: the server's last log lines:\n" + "\n".join(log[-30:]))
        raise
    finally:
        for session in sessions:
            session.sampler.stop()
            session.app.stop()


_SPIN = (
    "import sys, time\n"
    "turns, deadline = 0, time.perf_counter() + float(sys.argv[1])\n"
    "while time.perf_counter() < deadline:\n"
    "    turns += 1\n"
    "print(turns)\n"
)


def cpu_calibration(seconds: float) -> dict[str, float]:
    """How fast one core is, and how much more work two busy processes do than one.

    A virtual machine's "2 cores" may be two hyperthreads or a throttled share, and machines of
    the same kind differ: one core's rate (turns of a Python loop per second) is what compares
    runs on different machines, the speed-up (2.0 on two free cores) says how much CPU the
    server, the database and the load driver really have to share.
    """

    def spin(count: int) -> int:
        command = [sys.executable, "-c", _SPIN, str(seconds)]
        processes = [subprocess.Popen(command, stdout=subprocess.PIPE) for _ in range(count)]
        return sum(int(process.communicate()[0]) for process in processes)

    one = spin(1)
    return {"core_loop_turns_per_s": one / seconds, "parallel_speedup_2_procs": spin(2) / one}


def _machine(calibration_s: float) -> dict[str, Any]:
    model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "cpu_model": model,
        "memory_gib": psutil.virtual_memory().total / 2**30,
        **cpu_calibration(calibration_s),
        "load_average_start": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _commit() -> str:
    completed = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


def _csv(allowed: Sequence[str] | None = None) -> Any:
    def parse(text: str) -> list[str]:
        values = [value.strip() for value in text.split(",") if value.strip()]
        unknown = [value for value in values if allowed is not None and value not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)}")
        return values

    return parse


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(value.replace("_", "")) for value in _csv()(text)})
    if not sizes or sizes[0] <= 0:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN_URL,
        help="admin URL of the PostgreSQL server; the run creates and drops its own databases",
    )
    parser.add_argument("--apps", type=_csv(("bare", "secure")), default=["bare", "secure"])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[10_000],
        help="stored alerts for the reads, e.g. 10000,100000,1000000",
    )
    parser.add_argument(
        "--only", type=_csv(KNOWN_OPS), default=list(ALL_OPS), help=",".join(KNOWN_OPS)
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per operation")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each window")
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=3,
        help="rounds of each read (GET by id, the searches), the apps taking turns to go first: "
        "their ratio is the mean of the rounds' ratios, shown with its range",
    )
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per operation")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="simulated clients (single POST, GET by id)"
    )
    parser.add_argument(
        "--search-concurrency",
        type=int,
        default=2,
        help="clients for the searches: as many as workers, so p95 shows service time, not a queue",
    )
    parser.add_argument(
        "--batch-concurrency", type=int, default=4, help="batches of 500 in flight at once"
    )
    parser.add_argument(
        "--push-rows", type=int, default=10_000, help="alerts sent by the exchange_push operation"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per app")
    parser.add_argument(
        "--limits",
        choices=("on", "off"),
        default="on",
        help="the secure app's rate limits: on (enforced, too high to trigger) or off; "
        "run both to see what the limiter costs",
    )
    parser.add_argument(
        "--burst-clients",
        type=int,
        default=50,
        help="keep-alive clients connecting at once (burst, scaling)",
    )
    parser.add_argument(
        "--soak",
        action="store_true",
        help="the soak alone: the secure app, --soak-clients clients, mixed operations for "
        "--soak-duration seconds; acknowledged alerts checked stored, audit verified",
    )
    parser.add_argument("--soak-duration", type=float, default=600.0)
    parser.add_argument("--soak-clients", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--memory-duration",
        type=float,
        default=30.0,
        help="mixed run for worker memory (600 for the target)",
    )
    parser.add_argument(
        "--audit-entries",
        type=int,
        default=0,
        help="grow the audit log to this many entries before verifying it (1000000 for the target)",
    )
    parser.add_argument(
        "--memory-apps",
        type=_csv(("bare", "secure")),
        default=["bare", "secure"],
        help="apps that get the memory run (the target concerns the secure one)",
    )
    parser.add_argument(
        "--watch-lists",
        type=int,
        default=WATCH_LISTS,
        help="watch lists stored for the second single-POST run of watch_lists",
    )
    parser.add_argument(
        "--fanout-lists",
        type=int,
        default=events.FANOUT_LISTS,
        help="watch lists one alert matches",
    )
    parser.add_argument(
        "--listeners",
        type=int,
        default=events.LISTENERS,
        help="long-poll and SSE listeners at once",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--calibration", type=float, default=1.0, help="seconds of the CPU parallelism check"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy during each operation (OUT/profiles/, hot functions "
        "in the JSON)",
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="copy the table into README.md's section"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.soak_results = []
    args.listener_results = []
    if args.soak:
        args.apps, args.only = ["secure"], ["soak"]
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": _machine(args.calibration),
        "config": {
            "db": args.db,
            "apps": args.apps,
            "sizes": args.sizes,
            "ops": args.only,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "search_concurrency": args.search_concurrency,
            "batch_concurrency": args.batch_concurrency,
            "workers": args.workers,
            "rate_limits": args.limits,
            "burst_clients": args.burst_clients,
            "batch_size": args.batch_size,
            "push_rows": args.push_rows,
            "memory_duration_s": args.memory_duration,
            "audit_entries": args.audit_entries,
        },
        "rows": [],
        "memory": {},
    }
    with tempfile.TemporaryDirectory(prefix="exchange-bench-") as tmp:
        workdir = Path(tmp)
        sessions, results["memory"] = run_apps(args, workdir)
    for session in sessions:
        results["rows"] += session.rows
        results["db_version"] = session.db_version
    results["soak"] = args.soak_results
    results["listeners"] = args.listener_results
    results["machine"]["load_average_end"] = os.getloadavg()
    results["targets"] = evaluate_targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    markdown = render_markdown(results)
    (args.out / "latest.md").write_text(markdown, encoding="utf-8")
    if args.update_readme:
        readme = REPO_ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        readme.write_text(replace_readme_table(text, markdown), encoding="utf-8")
        say(f"updated the table in {readme}")
    sys.stdout.write(markdown)
    return 0
