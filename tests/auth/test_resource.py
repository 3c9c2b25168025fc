"""Resource protection: which access tokens the API accepts, and the 401 for each it refuses."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from tests.auth.conftest import assert_unauthorized
from tests.auth.forge import claims_of, hs256, tamper, unsigned
from tests.auth_helpers import Registry, TestAgency, in_seconds, sign
from tests.conftest import ISSUER

API = "/v1/substances"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def agency(registry: Registry) -> TestAgency:
    return await registry.agency(kind="regulatory", country="DE", scopes="alerts:read")


@pytest.fixture
async def token(client: httpx.AsyncClient, agency: TestAgency) -> str:
    answer = await agency.token(client)
    return str(answer["access_token"])


async def test_a_valid_token_is_accepted(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(API, headers=bearer(token))
    assert response.status_code == 200, response.text


async def test_the_scheme_name_is_case_insensitive(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(API, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200, response.text


async def test_no_token_is_401_with_challenges_and_no_error_code(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(API)
    assert response.status_code == 401
    assert response.json()["type"] == "urn:exchange-api:problem:missing-token"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="exchange-api"')
    assert 'DPoP realm="exchange-api", algs="ES256 PS256 EdDSA Ed25519"' in challenge
    assert "error=" not in challenge


async def test_a_token_in_the_query_string_is_ignored(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(API, params={"access_token": token})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:exchange-api:problem:missing-token"


async def test_another_scheme_counts_as_no_token(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(API, headers={"Authorization": f"Token {token}"})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:exchange-api:problem:missing-token"


async def test_two_authorization_headers_are_invalid_request(
    client: httpx.AsyncClient, token: str
) -> None:
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    response = await client.get(API, headers=headers)
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


def _claims(holder: TestAgency, /, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": holder.client_id,
        "aud": ISSUER,
        "client_id": holder.client_id,
        "agency": str(holder.id),
        "scope": "alerts:read",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


Forge = Callable[[TestAgency, ECKey, str], str]


def _ours(**changes: Any) -> Forge:
    """A token signed with the server's own key, correct except for ``changes``."""

    def forge(agency: TestAgency, key: ECKey, _token: str) -> str:
        header = {"typ": "at+jwt", "kid": key.thumbprint()}
        return sign(key, _claims(agency, **changes), header)

    return forge


REFUSED_TOKENS: dict[str, Forge] = {
    "alg none": lambda a, k, _t: unsigned({"typ": "at+jwt", "kid": k.thumbprint()}, _claims(a)),
    "HS256 keyed with our public key (PEM)": lambda a, k, _t: hs256(
        {"typ": "at+jwt", "kid": k.thumbprint()}, _claims(a), k.as_pem(private=False)
    ),
    "signed by a foreign key under our kid": lambda a, k, _t: sign(
        ECKey.generate_key("P-256"), _claims(a), {"typ": "at+jwt", "kid": k.thumbprint()}
    ),
    "tampered scope": lambda _a, _k, t: tamper(t, scope="alerts:read network:admin"),
    "tampered subject": lambda _a, _k, t: tamper(t, sub="someone-else"),
    "wrong iss": _ours(iss="https://other-issuer.example"),
    "wrong aud": _ours(aud="https://other-api.example"),
    "expired": _ours(exp=in_seconds(-120)),
    "not yet valid": _ours(nbf=in_seconds(600)),
    "issued in the future": _ours(iat=in_seconds(600)),
    "no jti": _ours(jti=None),
    "no exp": _ours(exp=None),
    "no client_id": _ours(client_id=None),
    "no agency": _ours(agency=None),
    "agency not the client's": _ours(agency=str(uuid.uuid4())),
    "unknown client": _ours(client_id="no-such-client"),
    "missing typ": lambda a, k, _t: sign(k, _claims(a), {"kid": k.thumbprint()}),
    "typ JWT": lambda a, k, _t: sign(k, _claims(a), {"typ": "JWT", "kid": k.thumbprint()}),
    "typ dpop+jwt": lambda a, k, _t: sign(
        k, _claims(a), {"typ": "dpop+jwt", "kid": k.thumbprint()}
    ),
    "no kid": lambda a, k, _t: sign(k, _claims(a), {"typ": "at+jwt"}),
    "not a JWT": lambda _a, _k, _t: "not.a.jwt",
}


@pytest.mark.parametrize("forge", REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
async def test_refused_tokens(
    client: httpx.AsyncClient, agency: TestAgency, server_key: ECKey, token: str, forge: Forge
) -> None:
    forged = forge(agency, server_key, token)
    assert_unauthorized(await client.get(API, headers=bearer(forged)))


async def test_the_forging_helper_makes_tokens_we_accept(
    client: httpx.AsyncClient, agency: TestAgency, server_key: ECKey
) -> None:
    """Every refusal above differs from this accepted token in one respect only."""
    forged = _ours()(agency, server_key, "")
    response = await client.get(API, headers=bearer(forged))
    assert response.status_code == 200, response.text


async def test_a_revoked_token_is_refused(
    client: httpx.AsyncClient, agency: TestAgency, token: str
) -> None:
    # Accepted first, so that its signature check is remembered: revocation still counts.
    assert (await client.get(API, headers=bearer(token))).status_code == 200
    revoked = await client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": agency.assertion(),
        },
    )
    assert revoked.status_code == 200, revoked.text
    detail = assert_unauthorized(await client.get(API, headers=bearer(token)))
    assert "revoked" in detail


async def test_a_token_of_a_client_disabled_after_issue_is_refused(
    client: httpx.AsyncClient, registry: Registry, agency: TestAgency, token: str
) -> None:
    assert (await client.get(API, headers=bearer(token))).status_code == 200
    admin = await registry.agency(scopes="network:admin clients:admin alerts:read alerts:write")
    disabled = await client.post(
        f"/v1/admin/clients/{agency.client_id}/disable", headers=await admin.headers(client)
    )
    assert disabled.status_code == 200, disabled.text
    detail = assert_unauthorized(await client.get(API, headers=bearer(token)))
    assert "disabled" in detail


async def test_a_token_accepted_before_is_refused_once_expired(
    client: httpx.AsyncClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remembered signature check does not remember the expiry: it is checked each time."""
    assert (await client.get(API, headers=bearer(token))).status_code == 200
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    detail = assert_unauthorized(await client.get(API, headers=bearer(token)))
    assert "expired" in detail


async def test_a_missing_scope_is_403_with_the_scope_named(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get("/v1/admin/agencies", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:exchange-api:problem:insufficient-scope"
    assert response.json()["required_scope"] == "network:admin"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="network:admin"' in challenge


async def test_the_access_log_names_the_client(
    client: httpx.AsyncClient, agency: TestAgency, token: str
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("exchange_api.access")
    logger.addHandler(handler)
    try:
        await client.get(API, headers=bearer(token))
        await client.get(API, headers=bearer(tamper(token, scope="admin")))
    finally:
        logger.removeHandler(handler)
    assert [record.__dict__["client_id"] for record in records] == [agency.client_id, None]
    assert claims_of(token)["client_id"] == agency.client_id
