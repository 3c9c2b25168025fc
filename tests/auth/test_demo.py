"""``exchange-api init --demo`` and the copy-paste way to a token: ``demo_token`` then curl.

The first run of ``init --demo`` and the server are real processes; the other commands run
in-process (``main`` with the environment set) to keep the suite quick.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import ECKey

from exchange_api.auth import demo_token
from exchange_api.cli import main as exchange_api
from exchange_api.crypto import ensure_keys
from tests.auth.forge import claims_of
from tests.test_cli import REPO, free_port, run_cli

KINDS = {"law_enforcement", "customs", "regulatory", "prosecution", "industry"}

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_in_process(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(main, *args)`` → exit status, stdout, stderr."""

    def run(entry_point: Callable[[list[str]], int], *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = entry_point(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.fixture
def fresh_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "EXCHANGE_KEYS_DIR": str(tmp_path / "keys"),
        "EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'exchange.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_init_demo_registers_one_agency_of_each_kind_once(
    fresh_env: dict[str, str], run_in_process: Run
) -> None:
    first = run_cli("init", "--demo", env=fresh_env)
    assert first.returncode == 0, first.stderr
    assert "python -m exchange_api.auth.demo_token customs" in first.stderr
    agencies = json.loads(first.stdout)["demo"]["agencies"]
    assert {agency["kind"] for agency in agencies} == KINDS
    assert {agency["client_id"] for agency in agencies} >= {"demo-customs", "demo-law-enforcement"}
    keys = {Path(agency["private_key"]) for agency in agencies}
    assert {path.name for path in keys} == {f"{kind}.pem" for kind in KINDS}
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in keys)
    before = {path: path.read_bytes() for path in keys}

    status, out, err = run_in_process(exchange_api, "init", "--demo")
    assert status == 0, err
    assert json.loads(out)["demo"]["agencies"] == agencies
    assert {path: path.read_bytes() for path in keys} == before


def test_a_demo_key_that_no_longer_matches_is_reported(
    fresh_env: dict[str, str], run_in_process: Run
) -> None:
    assert run_in_process(exchange_api, "init", "--demo")[0] == 0
    replaced = Path(fresh_env["EXCHANGE_KEYS_DIR"]) / "demo" / "customs.pem"
    replaced.write_bytes(ECKey.generate_key("P-256").as_pem(private=True))
    status, _out, err = run_in_process(exchange_api, "init", "--demo")
    assert status == 2
    assert err.count("\n") == 1, err
    assert "customs.pem" in err
    assert "does not match" in err


def test_demo_token_without_demo_keys_says_what_to_do(
    fresh_env: dict[str, str], run_in_process: Run
) -> None:
    status, out, err = run_in_process(demo_token.main, "customs")
    assert status == 2
    assert out == ""
    assert "exchange-api init --demo" in err


@pytest.fixture
def demo_server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_in_process: Run
) -> Iterator[str]:
    """``init --demo`` then the real server, on the test database; yields the issuer."""
    port = free_port()
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    env = {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_KEYS_DIR": str(keys_dir),
        "EXCHANGE_ISSUER": f"http://127.0.0.1:{port}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, _out, err = run_in_process(exchange_api, "init", "--demo")
    assert status == 0, err
    process = subprocess.Popen(
        [sys.executable, "-m", "exchange_api.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{env['EXCHANGE_ISSUER']}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield env["EXCHANGE_ISSUER"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_demo_token_then_call_the_api(demo_server: str, run_in_process: Run) -> None:
    status, out, err = run_in_process(demo_token.main, "customs")
    assert status == 0, err
    token = out.strip()
    assert claims_of(token)["client_id"] == "demo-customs"
    response = httpx.get(
        f"{demo_server}/v1/substances",
        params={"q": "ephedrine"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text

    status, out, err = run_in_process(
        demo_token.main, "law_enforcement", "--officer", "NL-0042", "--scope", "clients:admin"
    )
    assert status == 0, err
    claims = claims_of(out.strip())
    assert claims["sub"] == "NL-0042"
    assert claims["scope"] == "clients:admin"

    status, out, err = run_in_process(demo_token.main, "customs", "--scope", "clients:admin")
    assert status == 1
    assert "invalid_scope" in err
    assert out == ""
