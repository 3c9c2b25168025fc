"""``exchange events`` (a page run and ``--follow``) and ``exchange search --substance-name``
against a real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

from exchange_client import Client
from exchange_client.rows import EXAMPLE
from tests.sdk.conftest import ServerFactory
from tests.sdk.test_push import exchange


def test_events_follow_and_search_by_substance_name(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    agency = live.register("customs")
    with Client(live.url, agency.client_id, agency.key_path) as client:
        first = client.alerts.create(EXAMPLE)["id"]

        found = exchange(live, agency, "search", "--substance-name", "bmk")
        assert found.returncode == 0, found.stderr
        assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [first]
        unknown = exchange(live, agency, "search", "--substance-name", "no such thing")
        assert unknown.returncode == 0, unknown.stderr  # a name nobody reported finds nothing
        assert unknown.stdout == ""

        listed = exchange(live, agency, "events", "--type", "alert.created")
        assert listed.returncode == 0, listed.stderr
        [event] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert event["alert_id"] == first
        assert f"--after {event['id']}" in listed.stderr

        env = {
            **os.environ,
            "EXCHANGE_URL": live.url,
            "EXCHANGE_CLIENT_ID": agency.client_id,
            "EXCHANGE_KEY": str(agency.key_path),
        }
        # A suite started as a background job (`make test &` in a script) ignores SIGINT, and a
        # child inherits an ignored signal: Ctrl-C would then never reach the follower. With a
        # handler of ours in place while it starts, the follower gets the default disposition.
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            follower = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "exchange_client.cli",
                    "events",
                    "--follow",
                    "--after",
                    event["id"],
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        finally:
            signal.signal(signal.SIGINT, inherited)
        watchdog = threading.Timer(60, follower.kill)  # a hung stream fails, never hangs
        watchdog.start()
        try:
            second = client.alerts.create(EXAMPLE)["id"]
            assert follower.stdout is not None
            assert json.loads(follower.stdout.readline())["alert_id"] == second
            follower.send_signal(signal.SIGINT)
            _, stderr = follower.communicate(timeout=30)
        finally:
            watchdog.cancel()
            follower.kill()
    assert follower.returncode == 0, stderr
    assert "resume with --after" in stderr
