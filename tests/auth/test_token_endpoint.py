"""POST /oauth/token: grants, client authentication, scopes, and every refusal (RFC 6749 §5.2)."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from tests.auth.conftest import assert_oauth_error
from tests.auth.forge import claims_of, hs256, tamper, unsigned
from tests.auth_helpers import (
    ASSERTION_TYPE,
    JWT_BEARER,
    TOKEN_PATH,
    Registry,
    Serving,
    TestAgency,
    sign,
)
from tests.conftest import ISSUER

ALL_SCOPES = "alerts:read alerts:write audit:read clients:admin network:admin"


def client_auth(assertion: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def token_request(
    client: httpx.AsyncClient, form: dict[str, str], **kwargs: Any
) -> httpx.Response:
    return await client.post(TOKEN_PATH, data=form, **kwargs)


async def client_credentials(client: httpx.AsyncClient, assertion: str) -> httpx.Response:
    return await token_request(
        client, {"grant_type": "client_credentials", **client_auth(assertion)}
    )


@pytest.fixture
async def agency(registry: Registry) -> TestAgency:
    return await registry.agency(kind="customs", country="BE", scopes="alerts:read alerts:write")


async def test_client_credentials_issue_an_rfc9068_token(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    response = await client_credentials(client, agency.assertion())
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 300
    assert answer["scope"] == "alerts:read alerts:write"

    keys = KeySet.import_key_set((await client.get("/.well-known/jwks.json")).json())
    token = jwt.decode(answer["access_token"], keys, algorithms=["ES256"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] == keys.keys[0].thumbprint()
    claims = token.claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ISSUER
    assert claims["sub"] == agency.client_id
    assert claims["client_id"] == agency.client_id
    assert claims["agency"] == str(agency.id)
    assert claims["scope"] == "alerts:read alerts:write"
    assert claims["exp"] - claims["iat"] == 300
    assert uuid.UUID(claims["jti"]).version == 7
    assert "cnf" not in claims


async def test_officer_grant_makes_the_officer_the_subject(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    answer = await agency.token(client, officer="BE-CUSTOMS-0042")
    claims = claims_of(answer["access_token"])
    assert claims["sub"] == "BE-CUSTOMS-0042"
    assert claims["client_id"] == agency.client_id
    response = await client.get(
        "/v1/substances", headers={"Authorization": f"Bearer {answer['access_token']}"}
    )
    assert response.status_code == 200, response.text


async def test_officer_grant_may_also_authenticate_the_same_client(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    form = {
        "grant_type": JWT_BEARER,
        "assertion": agency.assertion(subject="officer-7"),
        **client_auth(agency.assertion()),
    }
    response = await token_request(client, form)
    assert response.status_code == 200, response.text
    assert claims_of(response.json()["access_token"])["sub"] == "officer-7"


async def test_officer_grant_refuses_another_clients_authentication(
    client: httpx.AsyncClient, agency: TestAgency, registry: Registry
) -> None:
    other = await registry.agency()
    form = {
        "grant_type": JWT_BEARER,
        "assertion": agency.assertion(subject="officer-7"),
        **client_auth(other.assertion()),
    }
    assert_oauth_error(await token_request(client, form), 400, "invalid_grant")


@pytest.mark.parametrize(
    "officer", ["", "two words", "x" * 201, "officer\u00e9", "line\nbreak"], ids=repr
)
async def test_officer_id_must_be_printable_ascii(
    client: httpx.AsyncClient, agency: TestAgency, officer: str
) -> None:
    form = {"grant_type": JWT_BEARER, "assertion": agency.assertion(claims={"sub": officer})}
    assert_oauth_error(await token_request(client, form), 400, "invalid_grant")


async def test_officer_grant_needs_an_assertion(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    form = {"grant_type": JWT_BEARER, **client_auth(agency.assertion())}
    assert_oauth_error(await token_request(client, form), 400, "invalid_request")


async def test_assertion_audience_may_be_the_issuer(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    response = await client_credentials(client, agency.assertion(claims={"aud": ISSUER}))
    assert response.status_code == 200, response.text


async def test_requested_scopes_are_granted_when_registered(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    answer = await agency.token(client, scopes="alerts:read")
    assert answer["scope"] == "alerts:read"
    assert claims_of(answer["access_token"])["scope"] == "alerts:read"


@pytest.mark.parametrize(
    "scope", ["network:admin", "alerts:read clients:admin", "admin", "alerts:delete"]
)
async def test_scope_outside_the_registration_is_invalid_scope(
    client: httpx.AsyncClient, agency: TestAgency, scope: str
) -> None:
    form = {"grant_type": "client_credentials", "scope": scope, **client_auth(agency.assertion())}
    assert_oauth_error(await token_request(client, form), 400, "invalid_scope")


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: RSAKey.generate_key(2048), id="PS256"),
        pytest.param(lambda: OKPKey.generate_key("Ed25519"), id="Ed25519"),
    ],
)
async def test_rsa_pss_and_ed25519_clients(
    client: httpx.AsyncClient, registry: Registry, key: Any
) -> None:
    agency = await registry.agency(key=key())
    answer = await agency.token(client)
    assert answer["token_type"] == "Bearer"


async def test_ed25519_under_its_old_name_eddsa(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    key = OKPKey.generate_key("Ed25519")
    agency = await registry.agency(key=key)
    now = int(time.time())
    claims = {
        "iss": agency.client_id,
        "sub": agency.client_id,
        "aud": agency.token_url,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    # The library would warn that EdDSA is deprecated; the wire format is what counts here.
    with pytest.warns(Warning, match="EdDSA"):
        assertion = jwt.encode({"alg": "EdDSA"}, claims, key, algorithms=["EdDSA"])
    response = await client_credentials(client, assertion)
    assert response.status_code == 200, response.text


# --- refusals of the client assertion ---------------------------------------------------------


def _assertion_claims(agency: TestAgency, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": agency.client_id,
        "sub": agency.client_id,
        "aud": agency.token_url,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


REFUSED_ASSERTIONS = {
    "alg none": lambda a: unsigned({"typ": "JWT"}, _assertion_claims(a)),
    "HS256 keyed with the client's public key (PEM)": lambda a: hs256(
        {}, _assertion_claims(a), a.private_key.as_pem(private=False)
    ),
    "HS256 keyed with the client's public JWK": lambda a: hs256(
        {}, _assertion_claims(a), str(a.private_key.as_dict(private=False)).encode()
    ),
    "signed by a foreign key": lambda a: sign(ECKey.generate_key("P-256"), _assertion_claims(a)),
    "signed by a foreign key naming the client's kid": lambda a: sign(
        ECKey.generate_key("P-256"), _assertion_claims(a), {"kid": a.private_key.thumbprint()}
    ),
    "tampered claims": lambda a: tamper(a.assertion(), exp=int(time.time()) + 120, jti="new"),
    "wrong aud": lambda a: a.assertion(claims={"aud": "https://elsewhere.example/oauth/token"}),
    "wrong iss": lambda a: a.assertion(claims={"iss": "someone-else"}),
    "sub is not the client": lambda a: a.assertion(claims={"sub": "officer-1"}),
    "expired": lambda a: a.assertion(claims={"exp": int(time.time()) - 120}),
    "not yet valid": lambda a: a.assertion(claims={"nbf": int(time.time()) + 600}),
    "issued in the future": lambda a: a.assertion(claims={"iat": int(time.time()) + 600}),
    "exp far in the future": lambda a: a.assertion(lifetime=3600),
    "no exp": lambda a: sign(a.private_key, _assertion_claims(a, exp=None)),
    "no jti": lambda a: sign(a.private_key, _assertion_claims(a, jti=None)),
    "not a JWT": lambda a: "not-a-jwt",
}


@pytest.mark.parametrize("make", REFUSED_ASSERTIONS.values(), ids=REFUSED_ASSERTIONS.keys())
async def test_bad_client_assertions_are_invalid_client(
    client: httpx.AsyncClient, agency: TestAgency, make: Any
) -> None:
    assert_oauth_error(await client_credentials(client, make(agency)), 401, "invalid_client")


# In the officer grant, a sub other than the client is the point.
OFFICER_REFUSALS = {k: v for k, v in REFUSED_ASSERTIONS.items() if k != "sub is not the client"}


@pytest.mark.parametrize("make", OFFICER_REFUSALS.values(), ids=OFFICER_REFUSALS.keys())
async def test_bad_officer_assertions_are_invalid_grant(
    client: httpx.AsyncClient, agency: TestAgency, make: Any
) -> None:
    form = {"grant_type": JWT_BEARER, "assertion": make(agency)}
    assert_oauth_error(await token_request(client, form), 400, "invalid_grant")


async def test_a_replayed_client_assertion_is_refused(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    assertion = agency.assertion()
    assert (await client_credentials(client, assertion)).status_code == 200
    description = assert_oauth_error(
        await client_credentials(client, assertion), 401, "invalid_client"
    )
    assert "replay" in description


async def test_a_replayed_officer_assertion_is_refused(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    form = {"grant_type": JWT_BEARER, "assertion": agency.assertion(subject="officer-1")}
    assert (await token_request(client, form)).status_code == 200
    assert_oauth_error(await token_request(client, form), 400, "invalid_grant")


async def test_concurrent_replays_of_one_assertion_yield_one_token(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    assertion = agency.assertion()
    responses = await asyncio.gather(*(client_credentials(client, assertion) for _ in range(6)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401, 401, 401, 401, 401]


async def test_a_disabled_client_gets_no_token(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    admin = await registry.agency(scopes="network:admin clients:admin alerts:read alerts:write")
    agency = await registry.agency()
    disabled = await client.post(
        f"/v1/admin/clients/{agency.client_id}/disable", headers=await admin.headers(client)
    )
    assert disabled.status_code == 200, disabled.text
    assert_oauth_error(await client_credentials(client, agency.assertion()), 401, "invalid_client")
    form = {"grant_type": JWT_BEARER, "assertion": agency.assertion(subject="officer-1")}
    assert_oauth_error(await token_request(client, form), 400, "invalid_grant")


# --- the request itself -------------------------------------------------------------------------


async def test_grant_type_is_required(client: httpx.AsyncClient, agency: TestAgency) -> None:
    response = await token_request(client, client_auth(agency.assertion()))
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "refresh_token"])
async def test_other_grants_are_unsupported(
    client: httpx.AsyncClient, agency: TestAgency, grant_type: str
) -> None:
    form = {"grant_type": grant_type, **client_auth(agency.assertion())}
    assert_oauth_error(await token_request(client, form), 400, "unsupported_grant_type")


async def test_client_credentials_need_client_authentication(client: httpx.AsyncClient) -> None:
    response = await token_request(client, {"grant_type": "client_credentials"})
    assert_oauth_error(response, 401, "invalid_client")


async def test_a_repeated_parameter_is_invalid_request(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    body = (
        "grant_type=client_credentials&scope=alerts:read&scope=audit:read"
        f"&client_assertion_type={ASSERTION_TYPE}&client_assertion={agency.assertion()}"
    )
    response = await client.post(
        TOKEN_PATH,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_json_body_is_invalid_request(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    form = {"grant_type": "client_credentials", **client_auth(agency.assertion())}
    assert_oauth_error(await client.post(TOKEN_PATH, json=form), 400, "invalid_request")


async def test_two_authentication_methods_are_invalid_request(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    form = {"grant_type": "client_credentials", **client_auth(agency.assertion())}
    response = await token_request(client, form, headers=basic(agency.client_id, "secret"))
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_wrong_assertion_type_is_invalid_client(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:example:other",
        "client_assertion": agency.assertion(),
    }
    assert_oauth_error(await token_request(client, form), 401, "invalid_client")


async def test_client_id_must_match_the_assertion(
    client: httpx.AsyncClient, agency: TestAgency, registry: Registry
) -> None:
    other = await registry.agency()
    form = {
        "grant_type": "client_credentials",
        "client_id": other.client_id,
        **client_auth(agency.assertion()),
    }
    assert_oauth_error(await token_request(client, form), 401, "invalid_client")


# --- client_secret_basic ------------------------------------------------------------------------


async def register_secret_client(client: httpx.AsyncClient, registry: Registry) -> dict[str, Any]:
    admin = await registry.agency(scopes="network:admin clients:admin alerts:read alerts:write")
    body = {
        "agency_id": str(admin.id),
        "name": "development system",
        "scopes": ["alerts:read"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    response = await client.post(
        "/v1/admin/clients", json=body, headers=await admin.headers(client)
    )
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def test_client_secret_basic(client: httpx.AsyncClient, registry: Registry) -> None:
    registered = await register_secret_client(client, registry)
    credentials = basic(registered["client_id"], registered["client_secret"])
    response = await token_request(
        client, {"grant_type": "client_credentials"}, headers=credentials
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "alerts:read"


async def test_a_wrong_secret_is_invalid_client_with_a_basic_challenge(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    registered = await register_secret_client(client, registry)
    for credentials in (
        basic(registered["client_id"], registered["client_secret"] + "x"),
        basic("no-such-client", registered["client_secret"]),
        {"Authorization": "Basic not base64!"},
    ):
        response = await token_request(
            client, {"grant_type": "client_credentials"}, headers=credentials
        )
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic ")


async def test_a_key_client_cannot_use_a_secret(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    response = await token_request(
        client, {"grant_type": "client_credentials"}, headers=basic(agency.client_id, "")
    )
    assert_oauth_error(response, 401, "invalid_client")


async def test_secrets_can_be_switched_off(
    client: httpx.AsyncClient, registry: Registry, serving: Serving
) -> None:
    registered = await register_secret_client(client, registry)
    credentials = basic(registered["client_id"], registered["client_secret"])
    async with serving(allow_client_secrets=False) as (strict, _registry):
        response = await token_request(
            strict, {"grant_type": "client_credentials"}, headers=credentials
        )
        assert_oauth_error(response, 401, "invalid_client")
        metadata = (await strict.get("/.well-known/oauth-authorization-server")).json()
        assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]


# --- what is recorded -------------------------------------------------------------------------


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def auth_log() -> Any:
    handler = Collect()
    logger = logging.getLogger("exchange_api.auth")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


async def test_issue_and_refusal_are_recorded_without_credentials(
    client: httpx.AsyncClient, agency: TestAgency, auth_log: list[logging.LogRecord]
) -> None:
    assertion = agency.assertion()
    issued = await client_credentials(client, assertion)
    await client_credentials(client, assertion)
    events = [record.__dict__["event"] for record in auth_log]
    assert [event["action"] for event in events] == ["token.issue", "token.deny"]
    assert events[0]["token_id"] == claims_of(issued.json()["access_token"])["jti"]
    assert events[1] == {
        "action": "token.deny",
        "client_id": agency.client_id,
        "grant_type": "client_credentials",
        "error": "invalid_client",
    }
    text = " ".join(str(record.__dict__) for record in auth_log)
    assert assertion not in text
    assert issued.json()["access_token"] not in text
