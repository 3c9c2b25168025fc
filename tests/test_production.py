"""``EXCHANGE_ENV=production`` refuses to start on anything only fit for development, each
reason on one clear line; the demo cannot start in production."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import ValidationError

from exchange_api.app import create_app
from exchange_api.config import Settings
from exchange_api.crypto import ensure_keys
from exchange_api.production import UnsafeForProduction
from tests.conftest import Cli


def serve(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://x.example")


@pytest.fixture
def private_keys(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    ensure_keys(keys)
    return keys


def production(keys_dir: Path, **changes: Any) -> dict[str, Any]:
    return {
        "env": "production",
        "issuer": "https://exchange.example",
        "require_dpop": True,
        "allow_client_secrets": False,
        "keys_dir": keys_dir,
        **changes,
    }


def test_a_safe_production_profile_is_accepted(private_keys: Path) -> None:
    assert Settings(**production(private_keys)).is_production


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"issuer": "http://exchange.example"}, "EXCHANGE_ISSUER must be https:// in production"),
        ({"require_dpop": False}, "EXCHANGE_REQUIRE_DPOP must be true in production"),
        (
            {"allow_client_secrets": True},
            "EXCHANGE_ALLOW_CLIENT_SECRETS must be false in production",
        ),
    ],
)
def test_each_unsafe_setting_is_refused_with_its_line(
    private_keys: Path, change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**production(private_keys, **change))
    [error] = refused.value.errors()
    assert error["msg"].splitlines() == [f"Value error, {reason}"]


def test_a_key_directory_others_can_open_is_refused(private_keys: Path) -> None:
    os.chmod(private_keys, 0o755)  # noqa: S103 (the fault under test)
    with pytest.raises(ValidationError, match=r"EXCHANGE_KEYS_DIR .* must be private"):
        Settings(**production(private_keys))


def test_every_reason_is_given_at_once(private_keys: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(env="production", keys_dir=private_keys)
    assert len(refused.value.errors()[0]["msg"].splitlines()) == 3


def test_the_demo_cannot_start_in_production(
    cli: Cli, settings: Settings, private_keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_keys = private_keys.parent / "demo-keys"
    ensure_keys(demo_keys)
    seeded = cli("init", "--demo", EXCHANGE_KEYS_DIR=str(demo_keys))
    assert seeded.returncode == 0, seeded.stderr

    # The demo's own key directory holds the demo clients' private keys: refused as settings.
    with pytest.raises(ValidationError, match="demo client keys"):
        Settings(**production(demo_keys, database_url=settings.database_url))

    # Moved to clean keys, the database still holds the demo clients: refused at start.
    unsafe = Settings(**production(private_keys, database_url=settings.database_url))
    with pytest.raises(UnsafeForProduction, match="demo clients are registered"):
        create_app(unsafe)
    env = {
        "EXCHANGE_ENV": "production",
        "EXCHANGE_ISSUER": "https://exchange.example",
        "EXCHANGE_REQUIRE_DPOP": "true",
        "EXCHANGE_ALLOW_CLIENT_SECRETS": "false",
        "EXCHANGE_KEYS_DIR": str(private_keys),
    }
    refused = cli("serve", "--port", "1", **env)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert "refusing to serve in production: demo clients are registered" in line


async def test_production_serves_no_docs_page(settings: Settings, private_keys: Path) -> None:
    app = create_app(Settings(**production(private_keys, database_url=settings.database_url)))
    async with LifespanManager(app), serve(app) as http:
        assert (await http.get("/docs")).status_code == 404
        assert (await http.get("/openapi.json")).status_code == 200
