"""A few requests through the benchmark code, so that `make bench` does not rot between runs.

Both apps, on PostgreSQL when the suite has one (``EXCHANGE_TEST_POSTGRES_URL``, the server the
benchmark itself defaults to), else on SQLite. No timing is asserted: this checks that the
harness sets the servers up, drives them with real tokens, and writes its table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.report import ratios
from bench.run import main

POSTGRES_URL = os.environ.get("EXCHANGE_TEST_POSTGRES_URL")
DATABASE = (
    ["--db", "postgres", "--postgres-url", POSTGRES_URL] if POSTGRES_URL else ["--db", "sqlite"]
)
OPS = ["get_by_id", "search_party", "post_single", "batch", "burst"]
TINY_RUN = [
    *DATABASE,
    "--sizes", "40",
    "--batch-size", "20",
    "--duration", "5",
    "--warmup", "0",
    "--max-requests", "4",
    "--rounds", "2",
    "--concurrency", "2",
    "--search-concurrency", "1",
    "--batch-concurrency", "1",
    "--burst-clients", "2",
    "--workers", "1",
    "--calibration", "0.1",
    "--audit-entries", "300",
    "--push-rows", "30",
    "--only", ",".join([*OPS, "exchange_push", "audit_verify"]),
]  # fmt: skip


def test_a_tiny_run_of_both_apps_writes_the_table(tmp_path: Path) -> None:
    assert main([*TINY_RUN, "--out", str(tmp_path)]) == 0

    results = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    # The reads ran in two rounds, the other operations once.
    turns = [(row["app"], row["op"], row["round"]) for row in results["rows"] if "round" in row]
    assert sorted(turn for turn in turns if turn[1] in ("get_by_id", "search_party")) == [
        (app, op, turn)
        for app in ("bare", "secure")
        for op in ("get_by_id", "search_party")
        for turn in (0, 1)
    ]
    assert {turn for _, op, turn in turns if op not in ("get_by_id", "search_party")} == {0}
    rows = {(row["app"], row["op"]): row for row in results["rows"] if row.get("round", 0) == 0}
    audit = rows.pop(("secure", "audit_verify"))
    push = rows.pop(("secure", "exchange_push"))
    assert (push["units"], push["errors"]) == (30, 0)
    after_push = rows.pop(("secure", "batch_after_push"))
    assert (after_push["units"], after_push["errors"], after_push["unit"]) == (4 * 20, 0, "alert")
    assert results["targets"]["exchange_push_ratio"]["passed"] is not None
    assert audit["verify_output"]["ok"] is True
    assert audit["units"] >= 300
    assert set(rows) == {(app, op) for app in ("bare", "secure") for op in OPS}
    for row in rows.values():
        assert row["errors"] == 0, row
        assert row["requests"] == 4
        assert row["stored"] >= 40
    assert rows["secure", "batch"]["units"] == 4 * 20
    for app in ("bare", "secure"):  # one worker: it served every request of the burst
        (worker,) = rows[app, "burst"]["workers"]
        assert worker["requests"] == 4
    assert {(ratio["op"], ratio["rounds"]) for ratio in ratios(results)} == {
        (op, 2 if op in ("get_by_id", "search_party") else 1) for op in OPS
    }
    markdown = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "| secure | search_party | 40 | 1 |" in markdown
    assert "| secure | search_party (round 2) | 40 | 1 |" in markdown
