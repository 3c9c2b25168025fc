"""The ``exchange-api`` command, run as a real process."""

from __future__ import annotations

import argparse
import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange_api.exports import render_openapi, render_schemas

REPO = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange_api.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    return {
        "EXCHANGE_KEYS_DIR": str(tmp_path / "keys"),
        "EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'exchange.db'}",
    }


def test_init_creates_private_keys_once_and_migrates(fresh_env: dict[str, str]) -> None:
    first = run_cli("init", env=fresh_env)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    keys_dir = Path(fresh_env["EXCHANGE_KEYS_DIR"])
    created = [Path(p) for p in result["keys_created"]]
    assert {p.name for p in created} >= {"token-signing.pem", "audit-signing.pem", "0001.key"}
    assert mode(keys_dir) == 0o700
    assert all(mode(p) == 0o600 for p in created)
    assert result["schema"]
    before = {p: p.read_bytes() for p in created}

    second = run_cli("init", env=fresh_env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["keys_created"] == []
    assert {p: p.read_bytes() for p in created} == before


def test_init_tightens_an_existing_keys_folder(fresh_env: dict[str, str]) -> None:
    keys_dir = Path(fresh_env["EXCHANGE_KEYS_DIR"])
    keys_dir.mkdir(mode=0o755)
    keys_dir.chmod(0o755)
    assert run_cli("init", env=fresh_env).returncode == 0
    assert mode(keys_dir) == 0o700


def test_serve_refuses_a_key_others_can_read(fresh_env: dict[str, str]) -> None:
    assert run_cli("init", env=fresh_env).returncode == 0
    key = Path(fresh_env["EXCHANGE_KEYS_DIR"]) / "token-signing.pem"
    key.chmod(0o644)
    refused = run_cli("serve", "--port", "1", env=fresh_env)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "token-signing.pem" in lines[0]
    assert "Traceback" not in refused.stderr


def test_bad_setting_is_one_line(fresh_env: dict[str, str]) -> None:
    refused = run_cli("init", env={**fresh_env, "EXCHANGE_DATABASE_URL": "mysql://x@y/z"})
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "EXCHANGE_DATABASE_URL" in refused.stderr


def test_serve_refuses_an_unmigrated_database(fresh_env: dict[str, str], tmp_path: Path) -> None:
    assert run_cli("init", env=fresh_env).returncode == 0
    env = {**fresh_env, "EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    refused = run_cli("serve", "--port", "1", env=env)
    assert refused.returncode == 2
    assert "exchange-api init" in refused.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(database_url: str, keys_dir: Path) -> Iterator[str]:
    """The real server (uvicorn, two workers) on a loopback port, against the test database."""
    port = free_port()
    env = {**os.environ, "EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_KEYS_DIR": str(keys_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "exchange_api.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_served_over_http_is_ready(served: str) -> None:
    response = httpx.get(f"{served}/readyz", timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"]


def test_openapi_file_matches_the_code() -> None:
    committed = (REPO / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render_openapi(), "openapi/ drifted: run `exchange-api openapi`"


def test_schema_files_match_the_code() -> None:
    expected = render_schemas()
    directory = REPO / "schemas"
    committed = {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.json")}
    assert committed == expected, "schemas/ drifted: run `exchange-api schemas`"


@pytest.mark.parametrize(
    ("group", "subcommand"),
    [
        ("agencies", "list"),
        ("clients", "enable"),
        ("keys", "rewrap"),
        ("retention", "run"),
        ("audit", "verify"),
    ],
)
def test_a_group_alone_prints_its_help(
    group: str, subcommand: str, fresh_env: dict[str, str]
) -> None:
    done = run_cli(group, env=fresh_env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"usage: exchange-api {group} ")
    assert subcommand in done.stderr
    assert "required" not in done.stderr


def test_every_option_says_what_it_is_for() -> None:
    from exchange_api.cli.main import build_parser

    def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}")
            elif action.option_strings and not action.help:
                yield f"{path} {action.option_strings[0]}"
            elif not action.option_strings and not action.help:
                yield f"{path} {action.dest}"

    assert list(walk(build_parser(), "exchange-api")) == []
