"""``keys rotate --signing`` under running workers: tokens verify across the switch on every
worker, the JWKS lists the current and the previous key for as long as a token signed by the
previous one can be valid, then only the current one.

Each test works on a copy of the keys, so the rotation does not leak into other tests.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jws

from exchange_api.audit.operator import operator_name
from exchange_api.auth.tokens import signing_key_overlap
from exchange_api.crypto.keyfiles import token_signing_path
from tests.audit.conftest import stored_entries
from tests.auth.conftest import assert_unauthorized
from tests.auth_helpers import Registry, Serving
from tests.conftest import Cli

API = "/v1/substances"


@pytest.fixture
def keys_dir(keys_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session's keys (modes kept: the loader refuses open files)."""
    return Path(shutil.copytree(keys_dir, tmp_path / "keys"))


def kid_of(token: str) -> str:
    return str(jws.extract_compact(token.encode()).headers()["kid"])


async def published(http: httpx.AsyncClient) -> list[str]:
    return [key["kid"] for key in (await http.get("/.well-known/jwks.json")).json()["keys"]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_tokens_verify_across_the_switch_on_every_worker(
    app: FastAPI,
    client: httpx.AsyncClient,
    registry: Registry,
    serving: Serving,
    cli: Cli,
    keys_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agency = await registry.agency()
    old_token = (await agency.token(client))["access_token"]
    old_kid = kid_of(old_token)
    assert await published(client) == [old_kid]

    rotated = cli("keys", "rotate", "--signing")

    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout) == {"signing_key_version": 2}
    assert stat.S_IMODE(token_signing_path(keys_dir, 2).stat().st_mode) == 0o600
    rotations = [e for e in stored_entries(app) if e["action"] == "admin.keys.rotate"]
    assert [(e["actor"], e["resource_ids"]) for e in rotations] == [
        (operator_name(), ["token-signing:2"])
    ]
    # The worker started before the rotation keeps signing with the old key for a few seconds.
    assert kid_of((await agency.token(client))["access_token"]) == old_kid

    async with serving() as (new_worker, _):
        new_token = (await agency.token(new_worker))["access_token"]
        new_kid = kid_of(new_token)
        assert new_kid != old_kid
        assert await published(new_worker) == [new_kid, old_kid]
        assert (await new_worker.get(API, headers=bearer(old_token))).status_code == 200

        # The old worker meets a key it does not know and looks for it (once a second at most).
        await asyncio.sleep(1.1)
        assert (await client.get(API, headers=bearer(new_token))).status_code == 200
        assert (await client.get(API, headers=bearer(old_token))).status_code == 200
        assert await published(client) == [new_kid, old_kid]
        assert kid_of((await agency.token(client))["access_token"]) == new_kid

        # Until the last token the old key signed has expired, it stays; then it is dropped.
        now = time.time()
        written = token_signing_path(keys_dir, 2).stat().st_mtime
        monkeypatch.setattr(time, "time", lambda: now + 299)
        for worker in (client, new_worker):
            assert (await worker.get(API, headers=bearer(old_token))).status_code == 200
        overlap = signing_key_overlap(300)
        monkeypatch.setattr(time, "time", lambda: written + overlap + 1)
        for worker in (client, new_worker):
            assert await published(worker) == [new_kid]
            detail = assert_unauthorized(await worker.get(API, headers=bearer(old_token)))
            assert "not signed by a current key" in detail
