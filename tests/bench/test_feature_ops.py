"""The statistics, follow-up and event operations of the benchmark at a tiny size, so that they
cannot rot between full runs. Like the smoke test, on PostgreSQL when the suite has one, else on
SQLite; no timing is asserted, only that every operation ran without an error and reported."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import ratios
from bench.run import STATS_OPS, main
from tests.bench.test_smoke import DATABASE

COMPARED = [*STATS_OPS, "followup_create", "followups_list"]
EVENT_OPS = ["watch_lists", "event_latency", "webhook_fanout", "listeners"]
TINY_RUN = [
    *DATABASE,
    "--sizes", "40",
    "--batch-size", "20",
    "--duration", "2",
    "--warmup", "0",
    "--max-requests", "4",
    "--concurrency", "2",
    "--search-concurrency", "1",
    "--workers", "2",
    "--calibration", "0.1",
    "--watch-lists", "10",
    "--fanout-lists", "5",
    "--listeners", "6",
    "--only", ",".join([*COMPARED, *EVENT_OPS]),
]  # fmt: skip


def test_the_feature_operations_run_and_report(tmp_path: Path) -> None:
    assert main([*TINY_RUN, "--out", str(tmp_path)]) == 0

    results = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    rows = {(row["app"], row["op"]): row for row in results["rows"]}
    for row in rows.values():
        assert row["errors"] == 0, row
    for app, op in (("secure", "followup_create"), ("bare", "followups_list")):
        # Two clients, two workers: one connection on each, whichever worker the kernel chose.
        held = [worker["connections"] for worker in rows[app, op]["workers"]]
        assert held == [1, 1], (app, op, rows[app, op]["workers"])
    assert {op for (app, op) in rows if app == "bare"} == set(COMPARED)
    assert {ratio["op"] for ratio in ratios(results)} == set(COMPARED)
    for op in ("event_longpoll", "event_sse", "event_webhook"):
        assert rows["secure", op]["requests"] >= 5  # an alert every 100 ms for 2 s
    assert rows["secure", "webhook_fanout"]["requests"] == 5
    assert rows["secure", "webhook_fanout"]["all_delivered_s"] is not None
    assert rows["secure", "post_single_lists_n"]["watch_lists"] == 10
    (listening,) = results["listeners"]
    assert listening["woken"] == 6
    assert len(listening["workers"]) == 2
    targets = results["targets"]
    for key in ("events_p95", "webhook_fanout", "watch_lists_cost", "listeners_flat"):
        assert targets[key]["measured"] != "not measured", key
    assert targets["stats_p95"]["passed"] is None  # judged only at 1M alerts
    markdown = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "| secure | emerging | 40 | 1 |" in markdown
    assert "Listeners (secure only): 6" in markdown
