"""A worker's token states on PostgreSQL: kept between requests, forgotten at once when a
client, an agency or a revocation changes — however the change is made."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from exchange_api.auth import repository
from exchange_api.auth.token_states import TokenStates
from tests.auth_helpers import Registry, TestAgency

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def states(app: FastAPI) -> TokenStates:
    token_states: TokenStates = app.state.token_states
    return token_states


@pytest.fixture
def statements(app: FastAPI) -> list[str]:
    """Every statement the app's engine sends from now on."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(app.state.engine, "before_cursor_execute", record)
    return seen


async def look_up(app: FastAPI, states: TokenStates, agency: TestAgency, token_id: str) -> Any:
    with app.state.session_factory.begin() as session:
        return await states.lookup(session, client_id=agency.client_id, token_id=token_id)


def change(app: FastAPI, sql: str, **params: Any) -> None:
    """A change made behind the service's back, as an operator's SQL would."""
    with app.state.session_factory.begin() as session:
        session.connection().execute(text(sql), params)


async def test_a_state_is_kept_until_something_changes(
    app: FastAPI, registry: Registry, states: TokenStates, statements: list[str]
) -> None:
    agency = await registry.agency()
    token_id = str(uuid.uuid4())
    first = await look_up(app, states, agency, token_id)
    asked = len(statements)
    assert asked >= 1
    assert await look_up(app, states, agency, token_id) == first
    assert len(statements) == asked, "the second lookup went to the database"

    change(app, "update agencies set name = name where id = :id", id=agency.id)
    assert await look_up(app, states, agency, token_id) == first
    assert len(statements) > asked + 1, "a change did not make the worker ask again"


async def test_a_revocation_is_seen_by_the_next_lookup(
    app: FastAPI, registry: Registry, states: TokenStates
) -> None:
    agency = await registry.agency()
    token_id = str(uuid.uuid4())
    assert not (await look_up(app, states, agency, token_id)).revoked
    with app.state.session_factory.begin() as session:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        repository.revoke_token(
            session, token_id=token_id, client_id=agency.client_id, expires_at=expires
        )
    assert (await look_up(app, states, agency, token_id)).revoked


async def test_disabling_by_hand_is_seen_by_the_next_lookup(
    app: FastAPI, registry: Registry, states: TokenStates
) -> None:
    agency = await registry.agency()
    token_id = str(uuid.uuid4())
    assert not (await look_up(app, states, agency, token_id)).client_disabled
    change(app, "update clients set disabled_at = now() where client_id = :id", id=agency.client_id)
    assert (await look_up(app, states, agency, token_id)).client_disabled
    change(app, "delete from clients where client_id = :id", id=agency.client_id)
    assert await look_up(app, states, agency, token_id) is None


async def test_without_its_listening_connection_the_worker_asks_every_time(
    app: FastAPI, registry: Registry, states: TokenStates, statements: list[str]
) -> None:
    agency = await registry.agency()
    token_id = str(uuid.uuid4())
    await look_up(app, states, agency, token_id)
    states._listener.close()  # the connection is lost (a database restart, a network cut)
    asked = len(statements)
    change(app, "update clients set disabled_at = now() where client_id = :id", id=agency.client_id)
    assert (await look_up(app, states, agency, token_id)).client_disabled
    assert (await look_up(app, states, agency, token_id)).client_disabled
    assert len(statements) >= asked + 3


async def test_lookups_at_once_each_see_a_change_made_before_they_began(
    app: FastAPI, registry: Registry, states: TokenStates
) -> None:
    """Lookups waiting together share fences; none answers from one sent before it began."""
    agency = await registry.agency()
    token_id = str(uuid.uuid4())
    assert not (await look_up(app, states, agency, token_id)).revoked  # kept by the worker
    for _round in range(3):
        change(app, "update agencies set name = name where id = :id", id=agency.id)
        states_seen = await asyncio.gather(
            *(look_up(app, states, agency, token_id) for _ in range(20))
        )
        assert {state.revoked for state in states_seen} == {False}
    with app.state.session_factory.begin() as session:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        repository.revoke_token(
            session, token_id=token_id, client_id=agency.client_id, expires_at=expires
        )
    states_seen = await asyncio.gather(*(look_up(app, states, agency, token_id) for _ in range(20)))
    assert all(state.revoked for state in states_seen)
