"""The SDK against the server's documents: models from openapi/openapi.json, one exception per
documented problem type, and the same surface on the sync and async clients."""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

from exchange_api.app import create_app  # noqa: F401 -- imports every domain's errors
from exchange_api.errors import ProblemError as ServerProblem
from exchange_client import AsyncClient, Client, SigningKey
from exchange_client.errors import PROBLEM_URN, ProblemError, problem_class

REPO = Path(__file__).resolve().parents[2]


def test_models_match_the_openapi_document(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen", REPO / "sdk/tools/generate_models.py")
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    fresh = tmp_path / "models.py"
    fresh.write_text(generator.render(json.loads((REPO / "openapi/openapi.json").read_text())))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "-q",
            "--config",
            str(REPO / "pyproject.toml"),
            str(fresh),
        ],
        check=True,
    )
    committed = (REPO / "sdk/exchange_client/models.py").read_text()
    assert fresh.read_text() == committed, "SDK models drifted: run sdk/tools/generate_models.py"


def _server_slugs() -> set[str]:
    found, todo = set(), [ServerProblem]
    while todo:
        cls = todo.pop()
        found.add(cls.slug)
        todo.extend(cls.__subclasses__())
    return found


def test_every_documented_problem_type_has_its_exception() -> None:
    contract = (REPO / "docs/contract.md").read_text()
    documented = set(re.findall(r"^\| \d{3} \| `([a-z-]+)` \|", contract, re.MULTILINE))
    assert len(documented) > 20
    for slug in documented | _server_slugs() - {"bad-request"}:
        cls = problem_class(PROBLEM_URN + slug, 400)
        assert cls.slug == slug, slug


def test_every_error_status_of_the_openapi_document_has_a_class() -> None:
    openapi = json.loads((REPO / "openapi/openapi.json").read_text())
    statuses = {
        int(s)
        for path in openapi["paths"].values()
        for op in path.values()
        for s in op.get("responses", {})
        if int(s) >= 400
    }
    for status in statuses:
        cls = problem_class("urn:exchange-api:problem:not-known-yet", status)
        assert cls is not ProblemError
        assert cls.status == status


def test_sync_and_async_clients_have_the_same_surface() -> None:
    sync_client = Client("http://127.0.0.1:1", "id", SigningKey.generate())
    async_client = AsyncClient("http://127.0.0.1:1", "id", SigningKey.generate())
    namespaces = {n for n, v in vars(sync_client).items() if not n.startswith("_")}
    assert namespaces == {n for n in vars(async_client) if not n.startswith("_")}
    assert {"alerts", "followups", "requests", "directory", "events", "subscriptions"} <= namespaces
    pairs = [(type(getattr(sync_client, n)), type(getattr(async_client, n))) for n in namespaces]
    for sync, asynchronous in pairs:
        methods = {
            n for n, _ in inspect.getmembers(sync, inspect.isfunction) if not n.startswith("_")
        }
        twins = {
            n
            for n, _ in inspect.getmembers(asynchronous, inspect.isfunction)
            if not n.startswith("_")
        }
        assert methods == twins
        for name in methods:
            left = inspect.signature(getattr(sync, name)).parameters
            right = inspect.signature(getattr(asynchronous, name)).parameters
            assert [(p.name, p.kind, p.default) for p in left.values()] == [
                (p.name, p.kind, p.default) for p in right.values()
            ], name
    sync_init = inspect.signature(Client.__init__).parameters
    async_init = inspect.signature(AsyncClient.__init__).parameters
    assert list(sync_init) == list(async_init)
