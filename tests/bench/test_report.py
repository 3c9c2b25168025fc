"""The report's arithmetic: ratios, target verdicts, and the README's table section."""

from __future__ import annotations

from typing import Any

from bench.report import evaluate_targets, ratios, render_markdown, replace_readme_table


def _row(app: str, op: str, size: int, throughput: float, p95: float = 10.0) -> dict[str, Any]:
    return {
        "app": app,
        "op": op,
        "size": size,
        "stored": size,
        "unit": "alert" if op == "batch" else "req",
        "concurrency": 2,
        "requests": 100,
        "errors": 0,
        "units": 100,
        "throughput": throughput,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95 * 2,
        "cpu_s_per_1k": 1.0,
        "db_cpu_s_per_1k": None,
        "driver_cpu_pct": 10.0,
        "peak_rss_mib": 100.0,
    }


def _results(rows: list[dict[str, Any]], memory: dict[str, Any] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started_at": "2026-01-01T00:00:00+00:00",
        "commit": "abc",
        "machine": {
            "cores_logical": 2,
            "cpu_model": "test",
            "core_loop_turns_per_s": 9.5e6,
            "parallel_speedup_2_procs": 2.0,
            "memory_gib": 8.0,
            "python": "3.11",
            "load_average_start": (0.0, 0.0, 0.0),
            "load_average_end": (0.0, 0.0, 0.0),
        },
        "config": {
            "db": "postgres",
            "workers": 2,
            "concurrency": 16,
            "search_concurrency": 2,
            "batch_concurrency": 4,
            "duration_s": 10.0,
            "warmup_s": 2.0,
        },
        "rows": rows,
        "memory": memory or {},
    }
    results["targets"] = evaluate_targets(results)
    return results


def test_ratio_targets_take_the_worst_size() -> None:
    results = _results(
        [
            _row("bare", "get_by_id", 10_000, 100.0),
            _row("secure", "get_by_id", 10_000, 80.0),
            _row("bare", "get_by_id", 100_000, 100.0),
            _row("secure", "get_by_id", 100_000, 50.0),
        ]
    )
    assert [round(r["ratio"], 2) for r in ratios(results)] == [0.8, 0.5]
    assert results["targets"]["get_by_id_ratio"]["passed"] is False
    assert results["targets"]["post_single_ratio"]["passed"] is None


def test_reads_are_judged_by_the_mean_of_their_rounds() -> None:
    def rounds(op: str, secure: list[float]) -> list[dict[str, Any]]:
        rows = []
        for turn, throughput in enumerate(secure):
            rows += [_row("bare", op, 10_000, 100.0), _row("secure", op, 10_000, throughput)]
            rows[-2]["round"] = rows[-1]["round"] = turn
        return rows

    steady = [*rounds("get_by_id", [70.0, 90.0, 89.0]), *rounds("search_substance", [81.0] * 3)]
    # One round of GET at 0.70 does not fail it: the mean of its rounds is 0.83.
    assert _results(steady)["targets"]["reads_ratio"]["passed"] is True
    # One round of route at 0.95 does not pass it: the mean of its rounds is 0.78.
    results = _results([*steady, *rounds("search_route", [95.0, 60.0, 80.0])])
    found = {r["op"]: r for r in ratios(results)}
    assert (round(found["get_by_id"]["ratio"], 2), found["get_by_id"]["rounds"]) == (0.83, 3)
    assert (found["search_route"]["lowest"], found["search_route"]["highest"]) == (0.6, 0.95)
    verdict = results["targets"]["reads_ratio"]
    assert verdict["passed"] is False
    assert verdict["measured"] == (
        "lowest search_route at 10,000 stored: 0.78 (0.60 to 0.95 over 3 rounds)"
    )
    assert "| get_by_id | 10,000 | 0.83 (0.70 to 0.90 over 3 rounds) |" in render_markdown(results)


def test_search_latency_is_judged_only_at_a_million_alerts() -> None:
    small = _results([_row("secure", "search_substance", 10_000, 50.0, p95=20.0)])
    assert small["targets"]["search_substance_p95"]["passed"] is None
    large = _results([_row("secure", "search_route", 1_000_000, 50.0, p95=60.0)])
    assert large["targets"]["search_route_p95"]["passed"] is False


def test_the_push_is_judged_against_the_batch_endpoint_before_and_after_it() -> None:
    before = _row("secure", "batch", 10_000, 1_000.0)
    push = _row("secure", "exchange_push", 10_000, 720.0)
    after = _row("secure", "batch_after_push", 10_000, 600.0)
    alone = _results([before, push])["targets"]["exchange_push_ratio"]
    assert (alone["passed"], alone["measured"].split()[0]) == (False, "0.72")
    bracketed = _results([before, push, after])["targets"]["exchange_push_ratio"]
    assert (bracketed["passed"], bracketed["measured"].split()[0]) == (True, "0.90")
    assert "mean of 1,000 and 600" in bracketed["measured"]


def test_memory_is_judged_only_over_ten_minutes() -> None:
    memory = {"secure": {"duration_s": 600.0, "max_abs_drift_pct": 4.0, "workers": {}}}
    assert _results([], memory)["targets"]["memory_flat"]["passed"] is True
    memory["secure"]["duration_s"] = 30.0
    assert _results([], memory)["targets"]["memory_flat"]["passed"] is None


def test_the_readme_section_is_replaced_and_stays_put_on_a_second_run() -> None:
    markdown = render_markdown(_results([_row("bare", "batch", 10_000, 3_000.0)]))
    readme = "intro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\noutro\n"
    once = replace_readme_table(readme, markdown)
    assert "old table" not in once
    assert "| bare | batch | 10,000 | 2 |" in once
    assert "one core turns a Python loop 9.5 million times a second" in once
    assert once.endswith("<!-- bench:end -->\noutro\n")
    assert replace_readme_table(once, markdown) == once
