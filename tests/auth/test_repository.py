"""The authorization server's memory: single use, and forgetting what can no longer matter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlmodel import func, select

from exchange_api.auth import repository
from exchange_api.models.oauth import RevokedToken, SeenDPoPProof, UsedClientAssertion
from tests.auth_helpers import Registry


def count(app: FastAPI, model: type[UsedClientAssertion | SeenDPoPProof | RevokedToken]) -> int:
    with app.state.session_factory() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def test_a_jti_is_claimed_once_per_client(app: FastAPI) -> None:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    with app.state.session_factory.begin() as session:
        assert repository.claim_client_assertion(
            session, client_id="a", jti="j", expires_at=expires
        )
        assert not repository.claim_client_assertion(
            session, client_id="a", jti="j", expires_at=expires
        )
        assert repository.claim_client_assertion(
            session, client_id="b", jti="j", expires_at=expires
        )


async def test_issuing_a_token_forgets_expired_entries(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    with app.state.session_factory.begin() as session:
        repository.claim_client_assertion(session, client_id="a", jti="old", expires_at=past)
        repository.revoke_token(session, token_id="old-token", client_id="a", expires_at=past)
    agency = await registry.agency()
    await agency.token(client, dpop=True)  # records one assertion and one proof, both current
    assert count(app, UsedClientAssertion) == 1
    assert count(app, SeenDPoPProof) == 1
    assert count(app, RevokedToken) == 0


async def test_the_state_of_an_unknown_client_is_none(app: FastAPI) -> None:
    with app.state.session_factory() as session:
        assert repository.token_state(session, client_id="nobody", token_id="t") is None
