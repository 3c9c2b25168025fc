"""The README's walk-through, taken from README.md itself and run against a real server.

Blocks marked ``<!-- walkthrough -->`` run in order in one ``bash`` with ``set -euo pipefail``,
from a directory laid out like the repository after ``make run``: ``.venv`` (this interpreter's
environment), ``keys/`` and the database of ``exchange-api init --demo``, and ``exchange-api
serve`` answering on a free loopback port that ``API`` and ``EXCHANGE_ISSUER`` name. On SQLite
that is what ``make run`` does; on PostgreSQL, what "Running on PostgreSQL with several workers"
says (two workers here), with ``EXCHANGE_DATABASE_URL`` exported to the walk-through as it asks.
A block marked ``<!-- walkthrough: NAME -->`` is the file the reader saves as NAME. Every other
shell block must say why it is left out (``<!-- not-walkthrough: why -->``), so a new one cannot
silently escape the test.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"

_FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_MARKER = re.compile(r"<!-- (walkthrough|not-walkthrough)(?:: (.+?))? -->\n\Z")


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    marker: str | None
    argument: str | None


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block, with the marker on the line just before it, if any."""
    blocks = []
    for match in _FENCED.finditer(text):
        marker = _MARKER.search(text, 0, match.start())
        blocks.append(
            Block(
                language=match.group(1),
                text=match.group(2),
                marker=marker.group(1) if marker else None,
                argument=marker.group(2) if marker else None,
            )
        )
    return blocks


def walkthrough_script(blocks: list[Block]) -> str:
    """One bash script of the walk-through: shell blocks as they are, files written by heredoc."""
    parts = [
        "set -euo pipefail",
        "trap 'echo \"walk-through failed at: $BASH_COMMAND\" >&2' ERR",
    ]
    for block in blocks:
        if block.marker != "walkthrough":
            continue
        if block.argument is None:
            assert block.language == "sh", f"a walk-through block must be sh: {block.text[:60]}"
            parts.append(block.text)
        else:
            assert "README_FILE_END" not in block.text
            parts.append(
                f"cat > {shlex.quote(block.argument)} <<'README_FILE_END'\n"
                f"{block.text}README_FILE_END"
            )
    return "\n".join(parts) + '\nprintf "walkthrough-alert=%s\\n" "$ALERT"\n'


def test_every_shell_block_is_in_the_walkthrough_or_says_why_not() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    unmarked = [b.text.splitlines()[0] for b in blocks if b.language == "sh" and b.marker is None]
    assert unmarked == [], "mark each with <!-- walkthrough --> or <!-- not-walkthrough: why -->"
    excluded = [b for b in blocks if b.marker == "not-walkthrough"]
    assert all(b.argument for b in excluded), "a not-walkthrough marker says why"
    walked = [b for b in blocks if b.marker == "walkthrough"]
    assert len(walked) >= 7
    assert any(b.language == "python" and b.argument for b in walked)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def demo_checkout(tmp_path: Path) -> Path:
    """A directory like the repository after ``make run`` installed and initialised it."""
    venv = Path(sys.prefix)
    assert (venv / "bin" / "exchange-api").exists(), "run the tests from the project's venv"
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    return tmp_path


@pytest.fixture
def served(demo_checkout: Path, backend: str, database_url: str) -> Iterator[dict[str, str]]:
    """``exchange-api init --demo`` and ``serve``, as the README says; the walk-through's env."""
    url = f"http://127.0.0.1:{_free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env |= {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_ISSUER": url,
        "EXCHANGE_LOG_LEVEL": "WARNING",
        "API": url,
    }
    workers = "2" if backend == "postgresql" else "1"
    exchange_api = str(demo_checkout / ".venv" / "bin" / "exchange-api")
    init = subprocess.run(
        [exchange_api, "init", "--demo"],
        cwd=demo_checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    port = url.rsplit(":", 1)[1]
    process = subprocess.Popen(
        [exchange_api, "serve", "--host", "127.0.0.1", "--port", port, "--workers", workers],
        cwd=demo_checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _ready(url):
            assert process.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_walkthrough_runs_against_a_real_server(
    demo_checkout: Path, served: dict[str, str]
) -> None:
    script = walkthrough_script(readme_blocks(README.read_text(encoding="utf-8")))
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=demo_checkout,
        env=served,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    alert = re.findall(r"^walkthrough-alert=(\S+)$", done.stdout, re.MULTILINE)
    assert len(alert) == 1
    out = done.stdout
    # The alert the walk-through pushed was found by both searches, read, linked, changed ...
    assert out.count(alert[0]) >= 6, out
    # ... and the auditor's own export says who read it and why, as the README promises.
    assert '"action":"alert.read","purpose":"BE-2026-00042 backtracking"' in out, out
    assert '"action":"alert.update"' in out, out
    assert "audit log OK" in done.stderr, done.stderr
