"""Rate limits: per client on /v1, per source address on /oauth/* before any work, tighter on
blind-index guessing; 429 ``rate-limited`` with ``Retry-After`` and the RateLimit headers, then
recovery; counters shared through Redis by several app instances."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import uuid

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager

from exchange_api.app import create_app
from exchange_api.config import Settings
from tests.alerts.http import PURPOSE, assert_problem
from tests.auth_helpers import TOKEN_PATH, Serving

REDIS_URL = "redis://127.0.0.1:6379/0"


def assert_rate_limited(response: httpx.Response, kind: str, limit: int, window: int) -> int:
    """A 429 naming the limit; returns its Retry-After."""
    assert_problem(response, 429, "rate-limited")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window
    assert response.headers["ratelimit-policy"] == f'"{kind}";q={limit};w={window}'
    assert response.headers["ratelimit"] == f'"{kind}";r=0;t={retry_after}'
    return retry_after


async def test_a_client_burst_on_v1_is_refused_then_recovers(serving: Serving) -> None:
    async with serving(rate_limits=True, rate_limit_client="5/second") as (client, registry):
        agency = await registry.agency(scopes="alerts:read")
        headers = await agency.headers(client)
        answers = [await client.get("/v1/substances", headers=headers) for _ in range(5)]
        assert [answer.status_code for answer in answers] == [200] * 5
        assert answers[0].headers["ratelimit-policy"] == '"client";q=5;w=1'
        assert answers[0].headers["ratelimit"].startswith('"client";r=4;t=')
        # Another client has a budget of its own.
        other = await registry.agency(scopes="alerts:read")
        other_headers = await other.headers(client)

        refused = await client.get("/v1/substances", headers=headers)
        retry_after = assert_rate_limited(refused, "client", 5, 1)
        assert (await client.get("/v1/substances", headers=other_headers)).status_code == 200

        await asyncio.sleep(retry_after)
        assert (await client.get("/v1/substances", headers=headers)).status_code == 200


async def test_blind_index_guessing_has_a_tighter_limit(serving: Serving) -> None:
    async with serving(rate_limits=True, rate_limit_guess="3/second") as (client, registry):
        agency = await registry.agency(scopes="alerts:read")
        headers = {**await agency.headers(client), **PURPOSE}
        for filters in ({"party": "Acme"}, {"document": "CSQU3054383"}, {"party": "x"}):
            answer = await client.get("/v1/alerts", params=filters, headers=headers)
            assert answer.status_code == 200, answer.text
        assert answer.headers["ratelimit-policy"] == '"client";q=1200;w=60, "guess";q=3;w=1'

        refused = await client.get("/v1/alerts", params={"party": "y"}, headers=headers)
        assert_problem(refused, 429, "rate-limited")
        retry_after = int(refused.headers["retry-after"])
        assert refused.headers["ratelimit"].endswith(f'"guess";r=0;t={retry_after}')
        # Searches that guess nothing are not held back.
        plain = await client.get("/v1/alerts", params={"origin": "CN"}, headers=headers)
        assert plain.status_code == 200

        await asyncio.sleep(retry_after)
        again = await client.get("/v1/alerts", params={"party": "y"}, headers=headers)
        assert again.status_code == 200


async def test_a_watch_list_on_a_party_or_document_counts_as_guesses(serving: Serving) -> None:
    """A watch list is a guess that waits: each party or document in it counts like a search."""
    async with serving(rate_limits=True, rate_limit_guess="3/minute") as (client, registry):
        agency = await registry.agency(scopes="alerts:read")
        headers = {**await agency.headers(client), **PURPOSE}
        both = {"name": "w", "filter": {"party": "Acme", "document": "CSQU3054383"}}
        created = await client.post("/v1/subscriptions", json=both, headers=headers)
        assert created.status_code == 201, created.text
        assert '"guess";r=1;' in created.headers["ratelimit"]  # two of the three counted
        one = await client.get("/v1/alerts", params={"party": "x"}, headers=headers)
        assert one.status_code == 200, one.text
        refused = await client.post(
            "/v1/subscriptions", json={"name": "v", "filter": {"party": "y"}}, headers=headers
        )
        assert_problem(refused, 429, "rate-limited")
        plain = await client.post(
            "/v1/subscriptions", json={"name": "u", "filter": {"origin": "CN"}}, headers=headers
        )
        assert plain.status_code == 201, plain.text


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting its verifications."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


def unknown_client() -> dict[str, str]:
    credentials = f"flood-{uuid.uuid4().hex}:wrong".encode()
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


async def test_a_flood_of_unknown_clients_costs_no_argon2_past_the_limit(
    settings: Settings,
) -> None:
    app = create_app(
        settings.model_copy(update={"rate_limits": True, "rate_limit_address": "5/second"})
    )
    hasher = CountingHasher()
    app.state.oauth = dataclasses.replace(app.state.oauth, secret_hasher=hasher)
    form = {"grant_type": "client_credentials"}
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as client:
            # All at once, as a flood comes: the limit is counted as each request arrives.
            flood = await asyncio.gather(
                *(client.post(TOKEN_PATH, data=form, headers=unknown_client()) for _ in range(20))
            )
            statuses = sorted(answer.status_code for answer in flood)
            assert statuses == [401] * 5 + [429] * 15
            assert hasher.verified == 5
            retry_after = assert_rate_limited(
                next(answer for answer in flood if answer.status_code == 429), "address", 5, 1
            )

            await asyncio.sleep(retry_after)
            recovered = await client.post(TOKEN_PATH, data=form, headers=unknown_client())
            assert recovered.status_code == 401
            assert hasher.verified == 6


async def test_the_redis_store_shares_counts_between_instances(serving: Serving) -> None:
    shared = {
        "rate_limits": True,
        "rate_limit_storage": REDIS_URL,
        "rate_limit_client": "4/minute",
        "rate_limit_address": "1000/minute",
    }
    async with serving(**shared) as (first, registry), serving(**shared) as (second, _):
        agency = await registry.agency(scopes="alerts:read")
        headers = await agency.headers(first)
        statuses = [
            (await http.get("/v1/substances", headers=headers)).status_code
            for http in (first, second, first, second)
        ]
        assert statuses == [200] * 4
        # The fifth call, on either instance, is the fifth of this client's minute.
        assert_rate_limited(await second.get("/v1/substances", headers=headers), "client", 4, 60)
        assert (await first.get("/v1/substances", headers=headers)).status_code == 429


async def test_limits_off_means_no_headers_and_no_refusals(serving: Serving) -> None:
    async with serving(rate_limits=False, rate_limit_client="1/minute") as (client, registry):
        agency = await registry.agency(scopes="alerts:read")
        headers = await agency.headers(client)
        for _ in range(3):
            answer = await client.get("/v1/substances", headers=headers)
            assert answer.status_code == 200
            assert "ratelimit" not in answer.headers


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate_limit_client", "10 per minute"),
        ("rate_limit_address", "10/day"),
        ("rate_limit_guess", "0/hour"),
        ("rate_limit_storage", "memcached://127.0.0.1"),
    ],
)
def test_limit_settings_are_checked_at_start(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"EXCHANGE_{name.upper()}"):
        Settings(**{name: value})
