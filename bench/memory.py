"""Worker memory over time: a background sampler of each uvicorn worker's resident set size.

The flat-memory target compares a worker's RSS early in a long run (after warm-up) with its RSS
at the end: a leak shows as growth, a cache that fills and stops as a step that levels off.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench.servers import worker_processes

__all__ = ["MemorySampler", "flatness"]

MIB = 1024 * 1024


@dataclass
class MemorySampler:
    """Samples every worker's RSS (MiB) every ``interval_s`` until stopped."""

    supervisor_pid: int
    interval_s: float = 0.5
    samples: list[tuple[float, int, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for worker in worker_processes(self.supervisor_pid):
                try:
                    self.samples.append((now, worker.pid, worker.memory_info().rss / MIB))
                except psutil.NoSuchProcess:
                    continue
            self._stop.wait(self.interval_s)

    def between(self, start: float, end: float) -> dict[int, list[tuple[float, float]]]:
        """Each worker's (time, RSS MiB) samples inside a window."""
        per_worker: dict[int, list[tuple[float, float]]] = {}
        for at, pid, rss in list(self.samples):
            if start <= at <= end:
                per_worker.setdefault(pid, []).append((at, rss))
        return per_worker

    def peak_mib(self, start: float, end: float) -> float | None:
        rss = [value for series in self.between(start, end).values() for _, value in series]
        return max(rss) if rss else None


def flatness(series: list[tuple[float, float]], warmup_fraction: float = 0.1) -> dict[str, Any]:
    """How much a worker's RSS moved between just after warm-up and the end of a run.

    Baseline: median of the samples in the second tenth of the run (the first tenth is warm-up:
    imports, pools and caches filling). End: median of the last tenth. Drift is their relative
    difference; the target is |drift| ≤ 10 %.
    """
    if len(series) < 10:
        return {"samples": len(series), "drift_pct": None}
    start, end = series[0][0], series[-1][0]
    span = end - start
    early = [
        rss
        for at, rss in series
        if start + span * warmup_fraction <= at <= start + span * 2 * warmup_fraction
    ]
    late = [rss for at, rss in series if at >= end - span * warmup_fraction]
    baseline, final = statistics.median(early), statistics.median(late)
    return {
        "samples": len(series),
        "baseline_mib": baseline,
        "end_mib": final,
        "peak_mib": max(rss for _, rss in series),
        "drift_pct": (final - baseline) / baseline * 100,
        "timeline_mib": _downsample(series, 60),
    }


def _downsample(series: list[tuple[float, float]], points: int) -> list[list[float]]:
    """At most ``points`` (seconds since start, RSS MiB) pairs, evenly spaced, for the JSON."""
    step = max(1, len(series) // points)
    start = series[0][0]
    return [[round(at - start, 1), round(rss, 1)] for at, rss in series[::step]]
