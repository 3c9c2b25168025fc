"""Shared fixtures: real databases built by the migrations, real keys, the real app.

Every test that asks for ``database_url`` runs once on SQLite and, when
``EXCHANGE_TEST_POSTGRES_URL`` is set (CI sets it), once more on PostgreSQL. Each test gets a
database of its own, copied from a template migrated once per run (a file copy on SQLite,
``CREATE DATABASE … TEMPLATE`` on PostgreSQL); every database this run creates is dropped at the
end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exchange_api.app import create_app
from exchange_api.cli import main
from exchange_api.config import Settings
from exchange_api.crypto import ensure_keys
from exchange_api.db import migrate_to_head
from tests.auth_helpers import Registry, Serving

pytest_plugins = ["tests.hsm"]  # SoftHSM2 tokens: softhsm_tokens, token

POSTGRES_URL = os.environ.get("EXCHANGE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
ISSUER = "http://127.0.0.1:8000"


class PostgresDatabases:
    """Creates and drops this run's PostgreSQL databases through the server's admin database."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"exchange_test_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []

    def url_of(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self.prefix}_{suffix}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)
        self.engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.postgres_only``: run only the PostgreSQL case of a test (none without it)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("backend") == "sqlite"
        postgres_only = item.get_closest_marker("postgres_only") is not None
        (dropped if postgres_only and on_sqlite else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    if POSTGRES_URL is None:
        pytest.fail("PostgreSQL fixture used without EXCHANGE_TEST_POSTGRES_URL")
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresDatabases) -> str:
    name = postgres.create("template")
    migrate_to_head(postgres.url_of(name))
    return name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest migration, of the parametrised backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "exchange.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    template_name: str = request.getfixturevalue("postgres_template")
    name = postgres.create(uuid.uuid4().hex[:8], template=template_name)
    yield postgres.url_of(name)
    postgres.drop(name)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "keys"
    ensure_keys(path)
    return path


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Done]


@pytest.fixture
def cli(
    database_url: str,
    keys_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """Run ``exchange-api`` on the same database and keys as the in-process ``client``."""
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", database_url)
    monkeypatch.setenv("EXCHANGE_KEYS_DIR", str(keys_dir))

    def run(*args: str, **env: str) -> Done:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            capsys.readouterr()
            returncode = main(list(args))
        captured = capsys.readouterr()
        return Done(returncode, captured.out, captured.err)

    return run


@pytest.fixture
def settings(database_url: str, keys_dir: Path) -> Settings:
    # No retention pass at start: tests that want one ask for it (tests/alerts/test_retention.py).
    # No rate limits: tests call faster than any client should; tests/test_rate_limits.py turns
    # them on.
    return Settings(
        database_url=database_url,
        keys_dir=keys_dir,
        issuer=ISSUER,
        retention_interval=0,
        rate_limits=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real app in-process (no network)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield http


@pytest.fixture
def registry(app: FastAPI) -> Registry:
    """Registers agencies with real clients and keys: ``await registry.agency(kind=...)`` gives a
    :class:`~tests.auth_helpers.TestAgency` whose ``headers(client)`` hold a real token."""
    return Registry(app)


@pytest.fixture
def serving(settings: Settings) -> Serving:
    """The app with some settings changed, on the same database and keys:
    ``async with serving(require_dpop=True) as (client, registry): ...``."""

    @asynccontextmanager
    async def run(**changes: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Registry]]:
        application = create_app(settings.model_copy(update=changes))
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
                yield http, Registry(application)

    return run
