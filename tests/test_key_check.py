"""The key check: a database refuses keys that are not its own, at ``init``, ``serve``, ``/readyz``
and ``keys rewrap``, naming the key without showing it; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import create_engine, delete, select

from exchange_api.app import create_app
from exchange_api.config import Settings
from exchange_api.crypto import add_kek_version, ensure_keys, load_key_material
from exchange_api.models.keys import KeyCheckRecord
from tests.alerts.builders import alert_body
from tests.alerts.http import open_desk, push
from tests.auth_helpers import Registry
from tests.conftest import ISSUER
from tests.test_cli import run_cli


def copy_keys(keys_dir: Path, to: Path) -> Path:
    return Path(shutil.copytree(keys_dir, to))


def env_of(database_url: str, keys: Path) -> dict[str, str]:
    return {"EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_KEYS_DIR": str(keys)}


def settings_of(database_url: str, keys: Path) -> Settings:
    return Settings(database_url=database_url, keys_dir=keys, issuer=ISSUER, retention_interval=0)


def key_material_texts(*keys_dirs: Path) -> list[str]:
    """Every symmetric key of these directories as text could show it: hex and base64."""
    texts = []
    for keys_dir in keys_dirs:
        material = load_key_material(keys_dir)
        for key in [material.blind_index_root, *material.keks.values()]:
            texts.append(key.hex())
            texts.append(base64.b64encode(key).decode())
            texts.append(base64.urlsafe_b64encode(key).decode())
    return texts


def assert_one_line_without_keys(stderr: str, *keys_dirs: Path) -> None:
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    for text in key_material_texts(*keys_dirs):
        assert text not in stderr


def replace_kek(keys: Path, version: int, other: Path) -> None:
    name = f"kek/{version:04d}.key"
    (keys / name).write_bytes((other / name).read_bytes())


async def readyz(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            return await http.get("/readyz")


def test_serve_refuses_keys_that_are_not_the_databases(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    own = copy_keys(keys_dir, tmp_path / "own")
    other = tmp_path / "other"
    ensure_keys(other)
    assert run_cli("init", env=env_of(database_url, own)).returncode == 0

    refused = run_cli("serve", "--port", "1", env=env_of(database_url, other))

    assert refused.returncode == 2
    assert "blind-index root key" in refused.stderr
    assert str(other / "blind-index-root.key") in refused.stderr
    assert_one_line_without_keys(refused.stderr, own, other)

    kek_swapped = copy_keys(own, tmp_path / "kek-swapped")
    replace_kek(kek_swapped, 1, other)
    refused = run_cli("serve", "--port", "1", env=env_of(database_url, kek_swapped))
    assert refused.returncode == 2
    assert "KEK version 1" in refused.stderr
    assert str(kek_swapped / "kek" / "0001.key") in refused.stderr
    assert_one_line_without_keys(refused.stderr, own, other)


def test_init_never_makes_new_keys_for_a_database_bound_to_others(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    own = copy_keys(keys_dir, tmp_path / "own")
    assert run_cli("init", env=env_of(database_url, own)).returncode == 0

    gone = tmp_path / "gone"
    refused = run_cli("init", env=env_of(database_url, gone))
    assert refused.returncode == 2
    assert "restore the keys directory" in refused.stderr
    assert_one_line_without_keys(refused.stderr, own)
    assert not gone.exists()

    partial = copy_keys(own, tmp_path / "partial")
    (partial / "blind-index-root.key").unlink()
    refused = run_cli("init", env=env_of(database_url, partial))
    assert refused.returncode == 2
    assert "blind-index-root.key" in refused.stderr
    assert not (partial / "blind-index-root.key").exists()

    again = run_cli("init", env=env_of(database_url, own))
    assert again.returncode == 0, again.stderr


async def test_readyz_names_the_key_that_does_not_match(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    own = copy_keys(keys_dir, tmp_path / "own")
    other = tmp_path / "other"
    ensure_keys(other)
    ready = await readyz(settings_of(database_url, own))  # binds the database to its keys
    assert ready.status_code == 200, ready.text

    response = await readyz(settings_of(database_url, other))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:exchange-api:problem:not-ready"
    assert "blind-index root key" in problem["detail"]
    for text in key_material_texts(own, other):
        assert text not in response.text
    assert (await readyz(settings_of(database_url, own))).status_code == 200


async def test_a_database_older_than_the_check_is_proved_by_its_alerts(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    own = copy_keys(keys_dir, tmp_path / "own")
    other = tmp_path / "other"
    ensure_keys(other)
    app = create_app(settings_of(database_url, own))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            desk = await open_desk(Registry(app), http)
            await push(http, desk, alert_body())
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:  # as before the key check existed
            connection.execute(delete(KeyCheckRecord))
        kek_swapped = copy_keys(own, tmp_path / "kek-swapped")
        replace_kek(kek_swapped, 1, other)

        response = await readyz(settings_of(database_url, kek_swapped))

        assert response.status_code == 503
        assert "KEK version 1" in response.json()["detail"]
        assert "does not unwrap" in response.json()["detail"]
        with engine.connect() as connection:
            assert connection.execute(select(KeyCheckRecord.name)).all() == []

        assert (await readyz(settings_of(database_url, own))).status_code == 200
        with engine.connect() as connection:
            names = set(connection.execute(select(KeyCheckRecord.name)).scalars())
        assert names == {"blind-index", "kek:1"}
    finally:
        engine.dispose()


async def test_a_kek_version_still_in_use_may_not_be_missing(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    own = copy_keys(keys_dir, tmp_path / "own")
    app = create_app(settings_of(database_url, own))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            desk = await open_desk(Registry(app), http)
            await push(http, desk, alert_body())
    assert add_kek_version(own) == 2
    (own / "kek" / "0001.key").unlink()  # destroyed before any rewrap

    response = await readyz(settings_of(database_url, own))

    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "KEK version 1" in detail
    assert "missing" in detail
    rewrap = run_cli("keys", "rewrap", env=env_of(database_url, own))
    assert rewrap.returncode == 2
    assert "KEK version 1" in rewrap.stderr
    assert "destroyed" not in rewrap.stderr
    assert_one_line_without_keys(rewrap.stderr, own)
