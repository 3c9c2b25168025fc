"""The repository stands alone: its code, tests and docs cite docs/, never a file outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".py", ".md", ".toml", ".ini", ".json", ".mako"}
TEXT_NAMES = {"Makefile", "run"}
OUTSIDE = re.compile(r"DESIGN(\.md)? ?§|\.\./shared/|shared/reference/")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    paths = [ROOT / name.decode() for name in listed if name]
    return [p for p in paths if p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES]


def test_nothing_cites_a_document_outside_the_repository() -> None:
    citing = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _tracked_text_files()
        if path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert citing == []


def test_the_docs_it_cites_exist() -> None:
    """Every ``docs/…`` path named in the code, tests or docs is a file of the repository."""
    named: set[str] = set()
    records: set[str] = set()
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8")
        named.update(re.findall(r"docs/[\w./-]+\.md", text))
        records.update(re.findall(r"docs/decisions/(\d{4})", text))
    missing = sorted(name for name in named if not (ROOT / name).is_file())
    missing += sorted(
        number
        for number in records
        if not list(ROOT.joinpath("docs/decisions").glob(number + "-*.md"))
    )
    assert missing == []
    assert named  # the code does cite docs: the check above ran on something
