"""A few requests through the benchmark code, so that `make bench` does not rot between runs.

No timing is asserted: this checks that the harness starts the servers, drives them, and writes
its table, not how fast anything is.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import main

TINY_RUN = [
    "--db", "sqlite",
    "--sizes", "40",
    "--batch-size", "20",
    "--duration", "5",
    "--warmup", "0",
    "--max-requests", "4",
    "--concurrency", "2",
    "--workers", "1",
    "--memory-duration", "1",
    "--calibration", "0.1",
]  # fmt: skip


def test_a_tiny_run_of_the_bare_app_writes_the_table(tmp_path: Path) -> None:
    assert main([*TINY_RUN, "--apps", "bare", "--out", str(tmp_path)]) == 0

    results = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    rows = {row["op"]: row for row in results["rows"]}
    assert set(rows) == {
        "get_by_id",
        "search_substance",
        "search_route",
        "search_party",
        "post_single",
        "batch",
    }
    for row in rows.values():
        assert row["errors"] == 0, row
        assert row["requests"] == 4
    assert rows["batch"]["units"] == 4 * 20
    assert rows["search_substance"]["stored"] >= 40
    markdown = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "| bare | search_party | 40 |" in markdown
