"""Where audit entries are recorded: in services, never in endpoints (docs/decisions/0005).

Endpoints hand the request's recorder to the service they call; a service that changes or
reads something records it, so no caller of a service — an endpoint, a command, a job — can
forget the entry. This reads every ``endpoints.py`` and fails on a call of ``.record(`` there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import exchange_api

PACKAGE = Path(exchange_api.__file__).resolve().parent


def _record_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "record"
    ]


def test_endpoints_never_record_audit_entries_themselves() -> None:
    endpoints = sorted(PACKAGE.rglob("endpoints.py"))
    assert len(endpoints) >= 4  # the rule is checked on the real routers
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in endpoints
        if (lines := _record_calls(path))
    }
    assert found == {}


def test_the_reader_finds_a_record_call(tmp_path: Path) -> None:
    module = tmp_path / "endpoints.py"
    module.write_text("def read(audit):\n    audit.record('alert.read')\n", encoding="utf-8")
    assert _record_calls(module) == [2]
