"""The load driver: a separate process that plays N concurrent clients against one server.

Run by the orchestrator as ``python -m bench.driver SPEC.json``; prints one JSON result on
stdout. Each simulated client is an asyncio task with its own access token (secure app) that
sends one request at a time; all share one httpx connection pool to 127.0.0.1. A run has a
warm-up, then a measured window that ends after ``duration_s`` or ``max_requests``, whichever
comes first. Inside the window it records every request's latency and status, and reads the CPU
seconds used by the server's process tree, the database server and this driver itself.

It also says how the work was spread over the server's workers: each request is counted against
its connection's local port, and at the end of the window each port is matched with the worker
holding the other end of the connection (psutil); each worker's CPU is read over the window too.
With ``one_connection_each`` every client has a connection of its own that it keeps (an agency
system's keep-alive), all opened at the same moment, spread over the workers as the kernel
spreads them (the burst measures that spread). Otherwise every client also keeps a connection of
its own, but they are spread evenly over the workers before the warm-up (:func:`_spread_evenly`):
with as many clients as workers (the searches), the kernel's hash put both connections on one
worker about every other run, so a run measured one worker's capacity or two by chance, and the
exchange and the bare baseline did not get the same chance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.corpus import AlertFactory, emerging_window_days
from bench.servers import tree_cpu_seconds, worker_processes
from bench.tokens import ClientKey, TokenSource

__all__ = ["OPERATIONS", "LoadSpec", "run_load"]

PAGE_SIZE = 50
PAGES_PER_SEARCH = 3
POOL_BODIES = 4_000
PURPOSE = "benchmark case BENCH-0001"


@dataclass
class LoadSpec:
    """What to run. ``sample_*`` are what seeding saw, for reads that must hit something."""

    base_url: str
    op: str
    concurrency: int
    duration_s: float
    max_requests: int
    warmup_s: float = 0.0
    seed: int = 1
    batch_size: int = 500
    server_pid: int | None = None
    postmaster_pid: int | None = None
    client_key: dict[str, Any] | None = None
    reporter_keys: list[dict[str, Any]] = field(default_factory=list)
    """Seeding only: client ``i`` reports as ``[client_key, *reporter_keys][i % n]``."""
    sample_ids: list[str] = field(default_factory=list)
    sample_parties: list[str] = field(default_factory=list)
    keep_samples: int = 0
    timeout_s: float = 120.0
    one_connection_each: bool = False
    keep_created: bool = False


@dataclass
class Recorder:
    """Latencies and statuses of the requests that finish inside the measured window.

    Counting completions (not starts) measures the steady state even when one request takes
    seconds (a batch of 500): the warm-up fills the pipeline, the window counts what comes out.
    Each request started inside the window takes a ticket first, so a run without warm-up
    (seeding to an exact size) sends exactly ``max_requests``.
    """

    max_requests: int
    recording: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tickets_taken: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    per_port: Counter[int] = field(default_factory=Counter)

    def take_ticket(self) -> bool:
        if self.tickets_taken >= self.max_requests:
            return False
        self.tickets_taken += 1
        return True

    def record(self, seconds: float, status: int, detail: str, port: int | None = None) -> None:
        """Count one finished request; ``status`` 0 is a transport error (no HTTP answer)."""
        if not self.recording:
            return
        if port is not None:
            self.per_port[port] += 1
        self.latencies.append(seconds)
        self.statuses[status] += 1
        if not 0 < status < 400 and len(self.error_samples) < 5:
            self.error_samples.append(f"{status} {detail[:300]}")
        if len(self.latencies) >= self.max_requests:
            self.stop.set()


@dataclass
class Samples:
    """Reservoirs of created alert ids and party names (what later reads will look for)."""

    keep: int
    rng: random.Random
    ids: list[str] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    seen: int = 0
    created: list[str] = field(default_factory=list)

    def add(self, alert_id: str, party: str) -> None:
        self.seen += 1
        if len(self.ids) < self.keep:
            self.ids.append(alert_id)
            self.parties.append(party)
            return
        slot = self.rng.randrange(self.seen)
        if slot < self.keep:
            self.ids[slot] = alert_id
            self.parties[slot] = party


class VirtualClient:
    """One simulated agency system: one request at a time, its own token, its own state."""

    def __init__(
        self, spec: LoadSpec, http: httpx.AsyncClient, recorder: Recorder, index: int
    ) -> None:
        self.spec = spec
        self.http = http
        self.recorder = recorder
        self.rng = random.Random(spec.seed * 1_000 + index)
        self.factory = AlertFactory(spec.seed * 1_000 + index)
        key = spec.client_key
        if spec.op == "seed" and key is not None:
            reporters = [key, *spec.reporter_keys]
            key = reporters[index % len(reporters)]
        self.tokens = (
            TokenSource(ClientKey.from_json(key), f"{spec.base_url}/oauth/token") if key else None
        )
        self.cursor: str | None = None
        self.pages_left = 0
        self.query: dict[str, str] = {}

    async def call(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"X-Purpose": PURPOSE}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if content is not None:
            headers["Content-Type"] = "application/json"
        if self.tokens is not None:
            headers["Authorization"] = await self.tokens.authorization(self.http)
        started = time.perf_counter()
        try:
            response = await self.http.request(
                method, path, content=content, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            self.recorder.record(time.perf_counter() - started, 0, repr(exc))
            # An answer no operation accepts, so the request counts as failed and the run goes on.
            return httpx.Response(599, request=exc.request)
        seconds = time.perf_counter() - started
        status = response.status_code
        detail = response.text if status >= 400 else ""
        self.recorder.record(seconds, status, detail, _local_port(response))
        return response

    async def search(self, make_query: Callable[[VirtualClient], dict[str, str]]) -> int:
        """One page of a search; an analyst reads a few pages of a query before the next."""
        if self.pages_left == 0 or self.cursor is None:
            self.query = make_query(self)
            self.cursor = None
            self.pages_left = PAGES_PER_SEARCH
        params = {**self.query, "limit": str(PAGE_SIZE)}
        if self.cursor is not None:
            params["cursor"] = self.cursor
        response = await self.call("GET", "/v1/alerts", params=params)
        self.pages_left -= 1
        self.cursor = response.json().get("next_cursor") if response.status_code == 200 else None
        return 1 if response.status_code == 200 else 0


# --- operations: each sends exactly one request and returns how many units succeeded ---------

Operation = Callable[[VirtualClient, "Workload"], Awaitable[int]]


@dataclass
class Workload:
    """Shared inputs: encoded bodies to send, and where seeding puts what it created."""

    bodies: list[bytes]
    samples: Samples


def _local_port(response: httpx.Response) -> int | None:
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("client_addr") if stream is not None else None
    return int(address[1]) if address else None


async def post_single(client: VirtualClient, work: Workload) -> int:
    response = await client.call("POST", "/v1/alerts", content=client.rng.choice(work.bodies))
    if response.status_code != 201:
        return 0
    if client.spec.keep_created:  # the soak checks afterwards that each one was stored
        work.samples.created.append(response.json()["id"])
    return 1


def _batch_units(response: httpx.Response) -> list[str]:
    if response.status_code not in (200, 201, 207):
        return []
    return [str(item["id"]) for item in response.json()["results"] if item.get("id")]


async def batch(client: VirtualClient, work: Workload) -> int:
    """A batch as a careful integrator sends it: with an ``Idempotency-Key`` of its own, so that
    a retry after a lost answer cannot store it twice. ``exchange push`` sends one with every
    batch, and the server keeps each key's row (the body's hash and the answer): without one
    here, the push/batch ratio would count that row as the SDK's cost."""
    chosen = client.rng.sample(work.bodies, client.spec.batch_size)
    payload = b'{"alerts":[' + b",".join(chosen) + b"]}"
    response = await client.call(
        "POST", "/v1/alerts/batch", content=payload, idempotency_key=f"bench-{uuid.uuid4()}"
    )
    return len(_batch_units(response))


async def seed(client: VirtualClient, work: Workload) -> int:
    """Batch ingest of fresh alerts, remembering a sample of what was created."""
    alerts = [client.factory.alert() for _ in range(client.spec.batch_size)]
    payload = json.dumps({"alerts": alerts}, separators=(",", ":")).encode()
    ids = _batch_units(await client.call("POST", "/v1/alerts/batch", content=payload))
    for alert_id, alert in zip(ids, alerts, strict=False):
        work.samples.add(alert_id, alert["parties"][0]["name"])
    return len(ids)


async def get_by_id(client: VirtualClient, work: Workload) -> int:
    alert_id = client.rng.choice(client.spec.sample_ids)
    response = await client.call("GET", f"/v1/alerts/{alert_id}")
    return 1 if response.status_code == 200 else 0


async def search_substance(client: VirtualClient, work: Workload) -> int:
    return await client.search(lambda c: {"substance": c.factory.substance()})


async def search_route(client: VirtualClient, work: Workload) -> int:
    return await client.search(lambda c: {"origin": c.factory.country()})


async def search_party(client: VirtualClient, work: Workload) -> int:
    return await client.search(lambda c: {"party": c.rng.choice(c.spec.sample_parties)})


FOLLOWUP_BODY = json.dumps(
    {
        "kind": "seizure",
        "occurred_on": "2026-01-02",
        "summary": "Benchmark seizure: drums declared as cleaner held the precursor.",
        "reference": "BENCH-SEIZ-0001",
        "seized": [{"cas": "103-79-7", "quantity": 1150, "unit": "kg"}],
        "arrests": 2,
        "handling": {
            "code": "H1",
            "source_reliability": "A",
            "information_reliability": "1",
            "tlp": "amber",
        },
    },
    separators=(",", ":"),
).encode()


async def followup_create(client: VirtualClient, work: Workload) -> int:
    alert_id = client.rng.choice(client.spec.sample_ids)
    response = await client.call("POST", f"/v1/alerts/{alert_id}/followups", content=FOLLOWUP_BODY)
    return 1 if response.status_code == 201 else 0


async def followups_list(client: VirtualClient, work: Workload) -> int:
    """The first page (50) of one alert's follow-ups; the run gave it 50 (``sample_ids[0]``)."""
    alert_id = client.spec.sample_ids[0]
    response = await client.call(
        "GET", f"/v1/alerts/{alert_id}/followups", params={"limit": str(PAGE_SIZE)}
    )
    return 1 if response.status_code == 200 else 0


async def _statistics(client: VirtualClient, group_by: str, scope: str) -> int:
    params = {"group_by": group_by, "scope": scope}
    response = await client.call("GET", "/v1/statistics/alerts", params=params)
    return 1 if response.status_code == 200 else 0


async def stats_network_substance(client: VirtualClient, work: Workload) -> int:
    return await _statistics(client, "substance", "network")


async def stats_network_month(client: VirtualClient, work: Workload) -> int:
    return await _statistics(client, "month", "network")


async def stats_visible_substance(client: VirtualClient, work: Workload) -> int:
    return await _statistics(client, "substance", "visible")


async def stats_visible_month(client: VirtualClient, work: Workload) -> int:
    return await _statistics(client, "month", "visible")


async def emerging(client: VirtualClient, work: Workload) -> int:
    """The early warning over the corpus's last 90 days of detections (its dates lie in the
    past, so "the last 90 days" of today would hold nothing). Its units are the substances
    listed: the row's ``units`` over its requests shows the answers were not empty."""
    params = {"days": str(emerging_window_days(date.today()))}
    response = await client.call("GET", "/v1/statistics/emerging", params=params)
    return len(response.json()["items"]) if response.status_code == 200 else 0


IDLE_WATCHED = ("60-79-7", "113-15-5", "82-58-6", "103-82-2", "4468-48-8", "120-57-0")
"""Catalogued substances outside the corpus: watch lists on them match nothing posted."""


async def watch_list_create(client: VirtualClient, work: Workload) -> int:
    """A watch list (no webhook) on a substance no benchmark alert has."""
    body = {"name": "bench idle list", "filter": {"substance": [client.rng.choice(IDLE_WATCHED)]}}
    content = json.dumps(body).encode()
    response = await client.call("POST", "/v1/subscriptions", content=content)
    return 1 if response.status_code == 201 else 0


async def mixed(client: VirtualClient, work: Workload) -> int:
    """Steady traffic for the memory check: writes, reads by id and searches."""
    roll = client.rng.random()
    if roll < 0.2:
        return await post_single(client, work)
    if roll < 0.6:
        return await get_by_id(client, work)
    if roll < 0.8:
        return await search_substance(client, work)
    return await search_party(client, work)


OPERATIONS: dict[str, Operation] = {
    "post_single": post_single,
    "batch": batch,
    "seed": seed,
    "get_by_id": get_by_id,
    "search_substance": search_substance,
    "search_route": search_route,
    "search_party": search_party,
    "mixed": mixed,
    "followup_create": followup_create,
    "followups_list": followups_list,
    "stats_network_substance": stats_network_substance,
    "stats_network_month": stats_network_month,
    "stats_visible_substance": stats_visible_substance,
    "stats_visible_month": stats_visible_month,
    "emerging": emerging,
    "watch_list_create": watch_list_create,
}


# --- the run --------------------------------------------------------------------------------


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def _cpu(pid: int | None) -> float:
    return tree_cpu_seconds(pid) if pid is not None else 0.0


def _workers(server_pid: int | None) -> dict[int, psutil.Process]:
    if server_pid is None:
        return {}
    return {process.pid: process for process in worker_processes(server_pid)}


def _own_cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def _spread(
    spec: LoadSpec,
    workers: dict[int, psutil.Process],
    cpu_before: dict[int, float],
    per_port: Counter[int],
) -> list[dict[str, Any]]:
    """Each worker's share of the window's requests (by the connections it holds) and its CPU.
    Requests on a connection that closed before the end are counted as ``unknown``."""
    owner = _owners(spec, workers)
    requests: Counter[int] = Counter()
    for port, count in per_port.items():
        requests[owner.get(port, 0)] += count
    total = sum(requests.values()) or 1
    cpu = {pid: _own_cpu(process) - cpu_before.get(pid, 0.0) for pid, process in workers.items()}
    cpu_total = sum(cpu.values()) or 1.0
    spread: list[dict[str, Any]] = [
        {
            "pid": pid,
            "connections": sum(1 for owned in owner.values() if owned == pid),
            "requests": requests[pid],
            "request_share": requests[pid] / total,
            "cpu_s": cpu[pid],
            "cpu_share": cpu[pid] / cpu_total,
        }
        for pid in workers
    ]
    if requests[0]:
        spread.append({"pid": "unknown", "requests": requests[0]})
    return spread


def _owners(spec: LoadSpec, workers: dict[int, psutil.Process]) -> dict[int, int]:
    """The worker holding each connection to the server, by the connection's local port."""
    server_port = int(spec.base_url.rsplit(":", 1)[1])
    owner: dict[int, int] = {}
    for pid, process in workers.items():
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        for connection in connections:
            if connection.raddr and connection.laddr.port == server_port:
                owner[connection.raddr.port] = pid
    return owner


def _connection(spec: LoadSpec) -> httpx.AsyncClient:
    """A client's own connection to the server, kept between its requests."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=spec.base_url, limits=limits, timeout=spec.timeout_s)


SPREAD_ATTEMPTS = 100
"""Reconnections tried before a run goes on with the connections as they fell."""


async def _spread_evenly(
    spec: LoadSpec,
    clients: list[VirtualClient],
    workers: dict[int, psutil.Process],
    stack: contextlib.AsyncExitStack,
) -> None:
    """Connect every client, then reconnect clients of the busiest worker until no worker holds
    more than one connection more than another: both apps are measured with their workers
    equally loaded, whatever the kernel's hash did with a handful of connections."""
    if len(workers) < 2:
        return
    ports = [_local_port(await client.http.get("/healthz")) for client in clients]
    for _ in range(SPREAD_ATTEMPTS):
        owner = _owners(spec, workers)
        held: dict[int, list[int]] = {pid: [] for pid in workers}
        for index, port in enumerate(ports):
            if port in owner:
                held[owner[port]].append(index)
        busiest = max(held.values(), key=len)
        if len(busiest) - min(len(indexes) for indexes in held.values()) <= 1:
            return
        moved = busiest[-1]
        await clients[moved].http.aclose()
        clients[moved].http = await stack.enter_async_context(_connection(spec))
        ports[moved] = _local_port(await clients[moved].http.get("/healthz"))


async def _drive(client: VirtualClient, operation: Operation, work: Workload) -> int:
    recorder = client.recorder
    units = 0
    while not recorder.stop.is_set():
        if recorder.recording and not recorder.take_ticket():
            break
        done = await operation(client, work)
        if recorder.recording:
            units += done
    return units


async def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Warm up, measure one window, and summarise it."""
    operation = OPERATIONS[spec.op]
    factory = AlertFactory(spec.seed)
    bodies = (
        [json.dumps(factory.alert(), separators=(",", ":")).encode() for _ in range(POOL_BODIES)]
        if spec.op in ("post_single", "batch", "mixed")
        else []
    )
    work = Workload(bodies=bodies, samples=Samples(spec.keep_samples, random.Random(spec.seed)))
    recorder = Recorder(max_requests=spec.max_requests)
    own = spec.one_connection_each
    https = [_connection(spec) for _ in range(spec.concurrency)]
    async with contextlib.AsyncExitStack() as stack:
        for http in https:
            await stack.enter_async_context(http)
        clients = [
            VirtualClient(spec, https[index], recorder, index) for index in range(spec.concurrency)
        ]
        for client in clients:
            if client.tokens is not None:  # before the burst, over one connection
                await client.tokens.authorization(https[0])
        if own:  # the token requests' connection goes: every client connects in the burst
            await https[0].aclose()
            https[0] = _connection(spec)
            await stack.enter_async_context(https[0])
            clients[0].http = https[0]
        workers = _workers(spec.server_pid)
        if not own:
            await _spread_evenly(spec, clients, workers, stack)
        me = psutil.Process()
        recorder.recording = spec.warmup_s <= 0  # without warm-up, the first request counts
        tasks = [asyncio.create_task(_drive(client, operation, work)) for client in clients]
        await asyncio.sleep(spec.warmup_s)
        before = (_cpu(spec.server_pid), _cpu(spec.postmaster_pid), sum(me.cpu_times()[:2]))
        worker_cpu_before = {pid: _own_cpu(process) for pid, process in workers.items()}
        recorder.recording = True
        window_start = time.time()
        started = time.perf_counter()
        try:
            await asyncio.wait_for(recorder.stop.wait(), timeout=spec.duration_s)
        except TimeoutError:
            recorder.stop.set()
        recorder.recording = False
        elapsed = time.perf_counter() - started
        window_end = time.time()
        after = (_cpu(spec.server_pid), _cpu(spec.postmaster_pid), sum(me.cpu_times()[:2]))
        spread = _spread(spec, workers, worker_cpu_before, recorder.per_port)
        units = sum(await asyncio.gather(*tasks))
    latencies = sorted(recorder.latencies)
    errors = sum(count for status, count in recorder.statuses.items() if not 0 < status < 400)
    return {
        "op": spec.op,
        "concurrency": spec.concurrency,
        "requests": len(latencies),
        "units": units,
        "errors": errors,
        "statuses": {str(status): count for status, count in sorted(recorder.statuses.items())},
        "error_samples": recorder.error_samples,
        "elapsed_s": elapsed,
        "window": [window_start, window_end],
        "latency_ms": {
            "p50": _percentile(latencies, 0.50) * 1000,
            "p95": _percentile(latencies, 0.95) * 1000,
            "p99": _percentile(latencies, 0.99) * 1000,
            "max": (latencies[-1] * 1000) if latencies else float("nan"),
        },
        "server_cpu_s": after[0] - before[0],
        "db_cpu_s": after[1] - before[1],
        "driver_cpu_s": after[2] - before[2],
        "created": work.samples.seen,
        "created_ids": work.samples.created,
        "workers": spread,
        "sample_ids": work.samples.ids,
        "sample_parties": work.samples.parties,
    }


def main(argv: list[str]) -> int:
    spec = LoadSpec(**json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    result = asyncio.run(run_load(spec))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
