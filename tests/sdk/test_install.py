"""The SDK installs into a fresh virtual environment with its own two dependencies only, from
PyPI, and works there: an agency does not need the server's stack to use it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVER_STACK = {"fastapi", "sqlmodel", "sqlalchemy", "uvicorn", "alembic", "exchange-api"}


def test_the_sdk_installs_alone_in_a_fresh_venv(tmp_path: Path) -> None:
    source = tmp_path / "sdk"
    shutil.copytree(
        REPO / "sdk", source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
    )
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")

    def run(*args: str) -> str:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source))
    installed = {
        re.split(r"==| @ ", line)[0].lower().replace("_", "-")
        for line in run(python, "-m", "pip", "freeze").splitlines()
    }
    assert {"exchange-client", "httpx", "joserfc"} <= installed
    assert not installed & SERVER_STACK
    imported = run(
        python,
        "-c",
        "import exchange_client, exchange_client.cli, exchange_client.models;"
        "from exchange_client import Client, SigningKey;"
        "Client('http://127.0.0.1:1', 'id', SigningKey.generate()).close();"
        "print(exchange_client.__file__)",
    )
    assert imported.startswith(str(tmp_path / "venv"))
    assert "template" in run(str(tmp_path / "venv" / "bin" / "exchange"), "--help")
    assert sys.prefix not in imported
