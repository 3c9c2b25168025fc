"""``exchange push`` against a real server: bad rows reported by line, re-runs that never
duplicate, and a run killed while a batch is held back."""

from __future__ import annotations

import csv
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange_client import Client
from exchange_client.push import journal_path
from exchange_client.rows import EXAMPLE, alert_to_row, template
from tests.sdk.conftest import Live, Registered, ServerFactory, free_port

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


def exchange(
    live: Live, agency: Registered, *args: str, url: str | None = None
) -> subprocess.CompletedProcess[str]:
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


class HoldingProxy(http.server.ThreadingHTTPServer):
    """Forwards to the server, except that batches after the first ``let_through`` are held
    (never forwarded) until the test kills the pusher."""

    def __init__(self, upstream: str, let_through: int) -> None:
        self.upstream, self.let_through, self.batches = upstream, let_through, 0
        self.held = threading.Event()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", free_port()), _Forward)


class _Forward(http.server.BaseHTTPRequestHandler):
    server: HoldingProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/v1/alerts/batch"):
            with self.server.lock:
                self.server.batches += 1
                hold = self.server.batches > self.server.let_through
            if hold:
                self.server.held.set()
                time.sleep(60)
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        answer = httpx.request(
            self.command,
            self.server.upstream + self.path,
            headers=headers,
            content=body,
            timeout=60,
        )
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _forward  # noqa: N815


def test_a_killed_push_resumes_and_sends_every_row_once(
    exchange_server: ServerFactory, tmp_path: Path
) -> None:
    proxy = HoldingProxy("", let_through=3)
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    live = exchange_server(issuer=proxy_url)
    proxy.upstream = f"http://127.0.0.1:{live.port}"
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    agency = live.register("customs")
    path = tmp_path / "alerts.ndjson"
    path.write_text(
        "".join(json.dumps({**EXAMPLE, "reference": f"K-{n}"}) + "\n" for n in range(3000))
    )

    env = {
        **os.environ,
        "EXCHANGE_URL": proxy_url,
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
    assert len(stored(live, agency)) == 1500  # three batches went in, the fourth never arrived

    # The batch in flight when the run was killed is reported, not resent blindly...
    proxy.let_through = 10**6
    rerun = exchange(live, agency, "push", str(path))
    assert rerun.returncode == 1, rerun.stderr
    errors = [
        json.loads(line)
        for line in (tmp_path / "alerts.ndjson.errors.ndjson").read_text().splitlines()
    ]
    assert [e["line"] for e in errors] == list(range(1501, 2001))
    assert {e["problem"]["type"] for e in errors} == {"urn:exchange-client:problem:outcome-unknown"}
    assert len(stored(live, agency)) == 2500
    # ... and resent on request: every row is then stored exactly once.
    resent = exchange(live, agency, "push", str(path), "--resend-uncertain")
    assert resent.returncode == 0, resent.stderr
    assert len(stored(live, agency)) == 3000
    with Client(live.url, agency.client_id, agency.key_path) as client:
        references = {
            client.alerts.get(i, purpose="check")["reference"] for i in stored(live, agency)[:5]
        }  # type: ignore[typeddict-item]
    assert len(references) == 5
    assert journal_path(path).exists()
    proxy.shutdown()
