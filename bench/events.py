"""The event feed under the benchmark: how soon a created alert reaches its readers.

Run inside the orchestrator's process against the secure app (the bare baseline has no events):

- ``event_latency``: alerts are posted one at a time while three readers wait for them — a
  long-poll loop (``GET /v1/events?after=…&wait=30``), a Server-Sent Events stream and a webhook
  receiver on loopback (a small HTTP server in this process, reached through a watch list whose
  URL the app allows with ``EXCHANGE_WEBHOOK_ALLOW_HOSTS=127.0.0.1``). Each alert's latency is
  from its ``201`` reaching the poster to its event reaching the reader.
- ``webhook_fanout``: 1,000 watch lists with webhooks on one substance, then one alert with it:
  how long until every list's delivery has arrived.
- ``listeners``: 500 listeners at once (half long-poll, half SSE), each on its own connection,
  woken by a few alerts: each worker's RSS and thread count before, while they wait, and after.

The substances used here are catalogued but not in the corpus (:mod:`bench.corpus`), so only the
alerts posted here match these watch lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil

from bench.corpus import AlertFactory
from bench.driver import PURPOSE, _percentile
from bench.profile import Profiler
from bench.servers import worker_processes
from bench.tokens import ClientKey, TokenSource

__all__ = [
    "FANOUT_LISTS",
    "LISTENERS",
    "Receiver",
    "event_latency",
    "listeners",
    "webhook_fanout",
]

LATENCY_SUBSTANCE = "89-52-1"
FANOUT_SUBSTANCE = "14838-15-4"
FANOUT_LISTS = 1_000
LISTENERS = 500
POST_INTERVAL_S = 0.1
FEED_PAGE = 500
MIB = 2**20


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server on 127.0.0.1 that answers 204 and notes when each POST came:
    ``(arrival time, path, body)``. Keep-alive, as the app's webhook client uses."""

    arrivals: list[tuple[float, str, bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length)
                self.arrivals.append((time.perf_counter(), path, body))
                self.arrived.set()
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the sender closed its connection, or the run is over
        finally:
            writer.close()


class Api:
    """The secure app's client for these runs: one token, the purpose header, a shared pool."""

    def __init__(self, base_url: str, client_key: dict[str, Any], connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.http = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120.0)
        self.tokens = TokenSource(ClientKey.from_json(client_key), f"{base_url}/oauth/token")

    async def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": await self.tokens.authorization(self.http),
            "X-Purpose": PURPOSE,
            **extra,
        }

    async def post_alert(self, body: dict[str, Any]) -> tuple[str, float]:
        """Create an alert; its id and when the 201 came."""
        response = await self.http.post("/v1/alerts", json=body, headers=await self.headers())
        if response.status_code != 201:
            raise RuntimeError(f"POST /v1/alerts: {response.status_code} {response.text[:300]}")
        return str(response.json()["id"]), time.perf_counter()

    async def watch(self, name: str, substance: str, webhook: str | None = None) -> None:
        body: dict[str, Any] = {"name": name, "filter": {"substance": [substance]}}
        if webhook is not None:
            body["webhook"] = {"url": webhook}
        response = await self.http.post(
            "/v1/subscriptions", json=body, headers=await self.headers()
        )
        if response.status_code != 201:
            raise RuntimeError(f"watch list: {response.status_code} {response.text[:300]}")

    async def head_cursor(self) -> str:
        """The feed's cursor after its newest event (read to the end, a page at a time)."""
        cursor: str | None = None
        while True:
            params = {"limit": str(FEED_PAGE), **({"after": cursor} if cursor else {})}
            response = await self.http.get(
                "/v1/events", params=params, headers=await self.headers()
            )
            response.raise_for_status()
            page = response.json()
            cursor = str(page["next_cursor"])
            if len(page["items"]) < FEED_PAGE:
                return cursor

    async def aclose(self) -> None:
        await self.http.aclose()


def _alert(factory: AlertFactory, substance: str) -> dict[str, Any]:
    body = factory.alert()
    body["substances"] = [{"cas": substance, "quantity": 100, "unit": "kg"}]
    return body


def _created_ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(item["alert_id"]) for item in items if item["type"] == "alert.created"]


async def _long_poll(api: Api, cursor: str, seen: dict[str, float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        params = {"after": cursor, "wait": "30", "limit": str(FEED_PAGE)}
        response = await api.http.get("/v1/events", params=params, headers=await api.headers())
        arrived = time.perf_counter()
        response.raise_for_status()
        page = response.json()
        for alert_id in _created_ids(page["items"]):
            seen.setdefault(alert_id, arrived)
        cursor = str(page["next_cursor"])


async def _sse_events(
    api: Api, cursor: str, ready: asyncio.Event | None = None
) -> AsyncIterator[tuple[float, dict[str, Any]]]:
    headers = await api.headers(Accept="text/event-stream")
    params = {"after": cursor}
    async with api.http.stream("GET", "/v1/events", params=params, headers=headers) as response:
        response.raise_for_status()
        if ready is not None:
            ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                yield time.perf_counter(), json.loads(line[len("data: ") :])


async def _sse(api: Api, cursor: str, seen: dict[str, float], ready: asyncio.Event) -> None:
    async for arrived, event in _sse_events(api, cursor, ready):
        if event["type"] == "alert.created":
            seen.setdefault(str(event["alert_id"]), arrived)


def latency_row(op: str, size: int, latencies_s: list[float], elapsed: float) -> dict[str, Any]:
    """A row of the report's table for latencies without a request of their own."""
    ordered = sorted(latencies_s)
    return {
        "app": "secure",
        "op": op,
        "size": size,
        "stored": size,
        "unit": "event",
        "concurrency": 1,
        "requests": len(ordered),
        "errors": 0,
        "statuses": {},
        "units": len(ordered),
        "elapsed_s": elapsed,
        "throughput": len(ordered) / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(ordered, 0.50) * 1000,
        "p95_ms": _percentile(ordered, 0.95) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] * 1000) if ordered else float("nan"),
        "cpu_s_per_1k": None,
        "db_cpu_s_per_1k": None,
        "driver_cpu_pct": None,
        "peak_rss_mib": None,
    }


async def event_latency(
    base_url: str, client_key: dict[str, Any], size: int, duration_s: float, seed: int
) -> list[dict[str, Any]]:
    """Latency rows ``event_longpoll``, ``event_sse`` and ``event_webhook``: alerts posted
    every 100 ms for ``duration_s``, each waited for by all three readers at once."""
    api = Api(base_url, client_key, connections=8)
    receiver = Receiver()
    await receiver.start()
    factory = AlertFactory(seed)
    try:
        await api.watch("bench latency", LATENCY_SUBSTANCE, f"http://127.0.0.1:{receiver.port}/")
        cursor = await api.head_cursor()
        polled: dict[str, float] = {}
        streamed: dict[str, float] = {}
        stop, ready = asyncio.Event(), asyncio.Event()
        readers = [
            asyncio.create_task(_long_poll(api, cursor, polled, stop)),
            asyncio.create_task(_sse(api, cursor, streamed, ready)),
        ]
        await asyncio.wait_for(ready.wait(), 30)
        posted: dict[str, float] = {}
        started = time.perf_counter()
        while time.perf_counter() - started < duration_s:
            alert_id, at = await api.post_alert(_alert(factory, LATENCY_SUBSTANCE))
            posted[alert_id] = at
            await asyncio.sleep(POST_INTERVAL_S)
        elapsed = time.perf_counter() - started
        hooked: dict[str, float] = {}
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            for arrived, _, body in receiver.arrivals:
                hooked.setdefault(str(json.loads(body)["alert_id"]), arrived)
            if all(set(posted) <= set(seen) for seen in (polled, streamed, hooked)):
                break
            await asyncio.sleep(0.1)
        stop.set()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        rows = []
        for op, seen in (
            ("event_longpoll", polled),
            ("event_sse", streamed),
            ("event_webhook", hooked),
        ):
            row = latency_row(
                op, size, [seen[i] - at for i, at in posted.items() if i in seen], elapsed
            )
            row["errors"] = sum(1 for alert_id in posted if alert_id not in seen)
            rows.append(row)
        return rows
    finally:
        await receiver.close()
        await api.aclose()


async def webhook_fanout(
    base_url: str,
    client_key: dict[str, Any],
    size: int,
    seed: int,
    lists: int = FANOUT_LISTS,
    profile: Callable[[], Profiler] | None = None,
) -> dict[str, Any]:
    """One alert matching ``lists`` watch lists with webhooks: each delivery's latency after
    the 201, and ``all_delivered_s`` when the last one came (None: not all in 60 s), which is
    also the row's ``elapsed_s`` (deliveries per second over it). ``profile`` starts sampling
    the server just before the alert is posted; it stops when the deliveries are in."""
    api = Api(base_url, client_key, connections=16)
    receiver = Receiver()
    await receiver.start()
    try:
        gate = asyncio.Semaphore(16)

        async def watch(index: int) -> None:
            async with gate:
                url = f"http://127.0.0.1:{receiver.port}/fanout/{index}"
                await api.watch(f"bench fan-out {index}", FANOUT_SUBSTANCE, url)

        await asyncio.gather(*(watch(index) for index in range(lists)))
        profiler = profile() if profile is not None else None
        _, posted_at = await api.post_alert(_alert(AlertFactory(seed), FANOUT_SUBSTANCE))
        deadline = posted_at + 60
        paths: dict[str, float] = {}
        while time.perf_counter() < deadline and len(paths) < lists:
            receiver.arrived.clear()
            for arrived, path, _ in receiver.arrivals:
                paths.setdefault(path, arrived)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.arrived.wait(), 0.5)
        last = max(paths.values()) - posted_at if paths else 0.0
        row = latency_row("webhook_fanout", size, [t - posted_at for t in paths.values()], last)
        row["unit"] = "delivery"
        row["errors"] = lists - len(paths)
        row["lists"] = lists
        row["all_delivered_s"] = last if len(paths) == lists else None
        if profiler is not None:
            row["profile"] = profiler.stop()
        return row
    finally:
        await receiver.close()
        await api.aclose()


def _workers_state(server_pid: int) -> dict[int, tuple[float, int]]:
    state = {}
    for worker in worker_processes(server_pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            state[worker.pid] = (worker.memory_info().rss / MIB, worker.num_threads())
    return state


async def listeners(
    base_url: str,
    client_key: dict[str, Any],
    server_pid: int,
    hold_s: float,
    seed: int,
    count: int = LISTENERS,
) -> dict[str, Any]:
    """``count`` listeners (half long-poll, half SSE) waiting at once for ``hold_s``, woken by
    an alert every second: each worker's (RSS MiB, threads) before, while and after, and how
    many listeners saw the alerts."""
    half = count // 2
    api = Api(base_url, client_key, connections=2 * half + 8)
    factory = AlertFactory(seed)
    try:
        cursor = await api.head_cursor()
        before = _workers_state(server_pid)
        woken: list[int] = [0] * (2 * half)
        stop = asyncio.Event()
        streams_ready = [asyncio.Event() for _ in range(half)]

        async def poller(index: int) -> None:
            seen: dict[str, float] = {}
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await _long_poll(api, cursor, seen, stop)
            woken[index] = len(seen)

        async def streamer(index: int) -> None:
            seen: dict[str, float] = {}
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await _sse(api, cursor, seen, streams_ready[index])
            woken[half + index] = len(seen)

        tasks = [asyncio.create_task(poller(i)) for i in range(half)]
        tasks += [asyncio.create_task(streamer(i)) for i in range(half)]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in streams_ready)), 60)
        await asyncio.sleep(2)  # the long-polls are parked too
        during: list[dict[int, tuple[float, int]]] = []
        started = time.perf_counter()
        while time.perf_counter() - started < hold_s:
            await api.post_alert(_alert(factory, LATENCY_SUBSTANCE))
            await asyncio.sleep(1)
            during.append(_workers_state(server_pid))
        stop.set()
        await asyncio.sleep(1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(1)
        after = _workers_state(server_pid)
        workers = {}
        for pid, (rss, threads) in before.items():
            held = [sample[pid] for sample in during if pid in sample]
            workers[str(pid)] = {
                "rss_before_mib": rss,
                "rss_max_during_mib": max(s[0] for s in held),
                "rss_after_mib": after.get(pid, (float("nan"), 0))[0],
                "threads_before": threads,
                "threads_max_during": max(s[1] for s in held),
                "threads_after": after.get(pid, (0.0, 0))[1],
            }
        return {
            "listeners": 2 * half,
            "held_s": hold_s,
            "woken": sum(1 for count in woken if count > 0),
            "workers": workers,
        }
    finally:
        await api.aclose()
