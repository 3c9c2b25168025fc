"""``exchange push`` against a real server: bad rows reported by line, re-runs that never
duplicate, and a run killed after the server stored a batch whose answer it never saw."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exchange_client import Client
from exchange_client.push import journal_path
from exchange_client.rows import EXAMPLE, alert_to_row, template
from tests.sdk.conftest import Live, Proxy, Registered, ServerFactory

BAD_ROWS = {7, 500, 913}  # record numbers (0-based) that the server refuses


def records(count: int) -> Iterator[dict[str, Any]]:
    for number in range(count):
        body = {**EXAMPLE, "reference": f"PUSH-{number}"}
        if number in BAD_ROWS:
            body["substances"] = [{"cas": "103-79-8"}]  # wrong check digit
        yield body


def write_csv(path: Path, count: int) -> None:
    rows = [alert_to_row(body) for body in records(count)]
    header = list(csv.DictReader(template().splitlines()).fieldnames or [])
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def write_ndjson(path: Path, count: int) -> None:
    path.write_text("".join(json.dumps(body) + "\n" for body in records(count)))


def exchange(live: Live, agency: Registered, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EXCHANGE_URL": live.url,
        "EXCHANGE_CLIENT_ID": agency.client_id,
        "EXCHANGE_KEY": str(agency.key_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "exchange_client.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stored(live: Live, agency: Registered) -> list[str]:
    with Client(live.url, agency.client_id, agency.key_path) as client:
        return [a["id"] for a in client.alerts.search(reporting_agency=agency.agency_id, limit=200)]


@pytest.mark.parametrize("kind", ["csv", "ndjson"])
def test_push_reports_bad_rows_by_line_and_never_duplicates(
    exchange_server: ServerFactory, tmp_path: Path, kind: str
) -> None:
    live = exchange_server()
    agency = live.register("customs")
    path = tmp_path / f"alerts.{kind}"
    (write_csv if kind == "csv" else write_ndjson)(path, 1000)
    first_line = 2 if kind == "csv" else 1  # a CSV's line 1 is its header

    done = exchange(live, agency, "push", str(path))
    assert done.returncode == 1, done.stderr
    errors = [
        json.loads(line)
        for line in (tmp_path / f"alerts.{kind}.errors.ndjson").read_text().splitlines()
    ]
    assert [e["line"] for e in errors] == sorted(n + first_line for n in BAD_ROWS)
    assert {e["problem"]["type"] for e in errors} == {"urn:exchange-api:problem:validation-error"}
    assert len(stored(live, agency)) == 997

    again = exchange(live, agency, "push", str(path))
    assert again.returncode == 1
    assert "0 created" in again.stderr
    assert len(stored(live, agency)) == 997


def test_a_journal_entry_cut_short_is_sent_again_and_stores_nothing_twice(
    exchange_server: ServerFactory, tmp_path: Path
) -> None:
    # The journal is not fsync-ed: a crash may leave its last entry half written.
    live = exchange_server()
    agency = live.register("customs")
    path = tmp_path / "alerts.ndjson"
    write_ndjson(path, 1000)
    assert exchange(live, agency, "push", str(path), "--in-flight", "1").returncode == 1
    journal = journal_path(path)
    written = journal.read_text()
    journal.write_text(written[: len(written) - 100])  # batch 1's entry, cut short

    again = exchange(live, agency, "push", str(path))
    assert again.returncode == 1, again.stderr
    assert "1000 rows: 498 created, 499 sent before, 3 failed" in again.stderr
    assert len(stored(live, agency)) == 997
    assert "0 created, 997 sent before" in exchange(live, agency, "push", str(path)).stderr


def test_template_pushed_back_creates_its_alert(
    exchange_server: ServerFactory, tmp_path: Path
) -> None:
    live = exchange_server()
    agency = live.register("customs")
    written = exchange(live, agency, "template")
    assert written.returncode == 0
    path = tmp_path / "template.csv"
    path.write_text(written.stdout)
    pushed = exchange(live, agency, "push", str(path))
    assert pushed.returncode == 0, pushed.stderr
    [alert_id] = stored(live, agency)
    with Client(live.url, agency.client_id, agency.key_path) as client:
        read = client.alerts.get(alert_id, purpose="template check")
    assert read["parties"] == EXAMPLE["parties"]  # type: ignore[typeddict-item]
    assert read["route"]["transit"] == ["TR", "BG"]


def test_a_killed_push_resumes_and_stores_every_row_once(
    proxied_server: Callable[..., tuple[Live, Proxy]], tmp_path: Path
) -> None:
    # The fourth batch reaches the server, which stores it; its answer never comes back.
    live, proxy = proxied_server(
        lambda method, path, seen: "hold" if path == "/v1/alerts/batch" and seen == 3 else "forward"
    )
    agency = live.register("customs")
    path = tmp_path / "alerts.ndjson"
    path.write_text(
        "".join(json.dumps({**EXAMPLE, "reference": f"K-{n}"}) + "\n" for n in range(3000))
    )
    env = {
        **os.environ,
        "EXCHANGE_URL": live.url,
        "EXCHANGE_CLIENT_ID": agency.client_id,
        "EXCHANGE_KEY": str(agency.key_path),
    }
    pusher = subprocess.Popen(
        [sys.executable, "-m", "exchange_client.cli", "push", str(path), "--in-flight", "1"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    assert proxy.held.wait(60)
    pusher.kill()
    pusher.wait()
    assert len(stored(live, agency)) == 2000  # four batches went in; the run saw three answers

    rerun = exchange(live, agency, "push", str(path))
    assert rerun.returncode == 0, rerun.stderr
    assert "3000 rows: 1500 created, 1500 sent before, 0 failed" in rerun.stderr
    assert len(stored(live, agency)) == 3000
    keys = Counter(h["Idempotency-Key"] for _, p, h in proxy.requests if p == "/v1/alerts/batch")
    # The lost batch (the fourth, number 3) was resent under its key, and stored once.
    assert sorted(keys.values()) == [1, 1, 1, 1, 1, 2]
    assert keys.most_common(1)[0][0].endswith("-3")
    assert not (tmp_path / "alerts.ndjson.errors.ndjson").exists()
    assert journal_path(path).exists()
