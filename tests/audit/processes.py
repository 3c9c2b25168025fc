"""The service as real processes: ``exchange-api serve`` on a loopback port, and the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ISSUER

REPO = Path(__file__).resolve().parents[2]


def service_env(database_url: str, keys_dir: Path) -> dict[str, str]:
    return {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_KEYS_DIR": str(keys_dir),
        "EXCHANGE_ISSUER": ISSUER,
        "EXCHANGE_LOG_LEVEL": "WARNING",
    }


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``exchange-api <args>`` as a process, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "exchange_api.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )


def verify_with_cli(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    """``exchange-api audit verify``: exit status, JSON report, summary."""
    done = run_cli(env, "audit", "verify", *args)
    report = json.loads(done.stdout) if done.stdout else {}
    return done.returncode, report, done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def served(env: dict[str, str], *, workers: int, log: Path | None = None) -> Iterator[Server]:
    """``exchange-api serve`` until the block ends (or the test kills it); its stderr (the JSON
    logs) goes to ``log`` if given."""
    port = _free_port()
    stderr = log.open("ab") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "exchange_api.cli", "serve"),
            *("--port", str(port), "--workers", str(workers)),
        ],
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    if log is not None:
        stderr.close()  # the child has its own copy
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not become ready")
        yield Server(url=url, process=process)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=60)
