"""DPoP (RFC 9449): sender-constrained tokens, and every proof the server must refuse."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tests.auth.conftest import assert_oauth_error, assert_unauthorized
from tests.auth.forge import claims_of, hs256, unsigned
from tests.auth_helpers import (
    TOKEN_PATH,
    Registry,
    Serving,
    TestAgency,
    dpop_proof,
    in_seconds,
    sign,
)
from tests.conftest import ISSUER

API = "/v1/substances"
API_URL = ISSUER + API


@pytest.fixture
async def agency(registry: Registry) -> TestAgency:
    return await registry.agency(kind="law_enforcement", scopes="alerts:read")


@pytest.fixture
async def bound(client: httpx.AsyncClient, agency: TestAgency) -> dict[str, str]:
    """Authorization for a token bound to the agency's DPoP key."""
    return await agency.headers(client, dpop=True)


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


async def test_a_proof_at_the_token_endpoint_binds_the_token(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    answer = await agency.token(client, dpop=True)
    assert answer["token_type"] == "DPoP"
    assert claims_of(answer["access_token"])["cnf"] == {"jkt": agency.dpop_key.thumbprint()}


async def test_a_bound_token_with_fresh_proofs_is_accepted(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    for _ in range(3):
        response = await client.get(API, headers=agency.proof_headers(bound, "GET", API))
        assert response.status_code == 200, response.text


async def test_the_proof_ignores_the_query_string(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    headers = agency.proof_headers(bound, "GET", API)
    response = await client.get(API, params={"q": "acetic"}, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "htu",
    ["HTTP://127.0.0.1:8000/v1/substances", "http://127.0.0.1:8000/v1/substances#fragment"],
    ids=["upper-case scheme", "fragment"],
)
async def test_htu_is_compared_after_normalisation(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str], htu: str
) -> None:
    proof = dpop_proof(agency.dpop_key, "GET", htu, access_token=token_of(bound))
    response = await client.get(API, headers={**bound, "DPoP": proof})
    assert response.status_code == 200, response.text


async def test_an_ed25519_proof_key_under_either_name(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    agency = await registry.agency(scopes="alerts:read")
    agency.dpop_key = OKPKey.generate_key("Ed25519")  # type: ignore[assignment]
    headers = await agency.headers(client, dpop=True)
    response = await client.get(API, headers=agency.proof_headers(headers, "GET", API))
    assert response.status_code == 200, response.text
    # The library warns that the name EdDSA is deprecated; clients still send it.
    with pytest.warns(Warning, match="EdDSA"):
        proof = dpop_proof(
            agency.dpop_key, "GET", API_URL, access_token=token_of(headers), header={"alg": "EdDSA"}
        )
    response = await client.get(API, headers={**headers, "DPoP": proof})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("bits", [2048, 4096])
async def test_a_ps256_proof_by_an_rsa_key_is_accepted(
    client: httpx.AsyncClient, registry: Registry, bits: int
) -> None:
    # The metadata advertises PS256 for DPoP: a real RSA key's proof, whose header alone (the
    # public JWK) is larger than the JOSE library's default header cap, must pass end to end.
    agency = await registry.agency(scopes="alerts:read")
    agency.dpop_key = RSAKey.generate_key(bits)  # type: ignore[assignment]
    headers = await agency.headers(client, dpop=True)
    assert claims_of(token_of(headers))["cnf"] == {"jkt": agency.dpop_key.thumbprint()}
    response = await client.get(API, headers=agency.proof_headers(headers, "GET", API))
    assert response.status_code == 200, response.text


async def test_a_replayed_proof_is_refused(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    headers = agency.proof_headers(bound, "GET", API)
    assert (await client.get(API, headers=headers)).status_code == 200
    detail = assert_unauthorized(
        await client.get(API, headers=headers), "invalid_dpop_proof", "invalid-dpop-proof"
    )
    assert "used before" in detail


async def test_a_proof_stays_spent_when_the_request_fails(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    path = "/v1/substances/50-00-0"  # a valid CAS number the catalogue does not list: 404
    headers = agency.proof_headers(bound, "GET", path)
    assert (await client.get(path, headers=headers)).status_code == 404
    assert_unauthorized(
        await client.get(path, headers=headers), "invalid_dpop_proof", "invalid-dpop-proof"
    )


async def test_a_bound_token_sent_as_bearer_is_refused(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    headers = agency.proof_headers(bound, "GET", API)
    headers["Authorization"] = f"Bearer {token_of(bound)}"
    response = await client.get(API, headers=headers)
    assert "DPoP-bound" in assert_unauthorized(response)
    assert (
        'algs="ES256 PS256 EdDSA Ed25519", error="invalid_token"'
        in (response.headers["www-authenticate"])
    )


async def test_an_unbound_token_sent_as_dpop_is_refused(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    token = (await agency.token(client))["access_token"]
    proof = dpop_proof(agency.dpop_key, "GET", API_URL, access_token=token)
    response = await client.get(API, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert_unauthorized(response)


async def test_a_bound_token_without_a_proof_is_refused(
    client: httpx.AsyncClient, bound: dict[str, str]
) -> None:
    response = await client.get(API, headers=bound)
    assert_unauthorized(response, "invalid_dpop_proof", "invalid-dpop-proof")


async def test_two_proofs_are_refused(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    first = agency.proof_headers(bound, "GET", API)
    second = agency.proof_headers(bound, "GET", API)
    headers = [
        ("Authorization", bound["Authorization"]),
        ("DPoP", first["DPoP"]),
        ("DPoP", second["DPoP"]),
    ]
    response = await client.get(API, headers=headers)
    assert_unauthorized(response, "invalid_dpop_proof", "invalid-dpop-proof")


Proof = Callable[[TestAgency, str], str]


def _proof(**claims: Any) -> Proof:
    """A proof by the agency's DPoP key for GET API_URL, with ``claims`` changed."""

    def make(agency: TestAgency, token: str) -> str:
        return dpop_proof(agency.dpop_key, "GET", API_URL, access_token=token, claims=claims)

    return make


def _proof_claims(token: str, **changes: Any) -> dict[str, Any]:
    from exchange_api.auth.jose import b64url_sha256

    claims = {"jti": "j-1", "htm": "GET", "htu": API_URL, "iat": int(time.time())}
    claims["ath"] = b64url_sha256(token)
    claims.update(changes)
    return claims


def _jwk_header(key: ECKey, **extra: Any) -> dict[str, Any]:
    return {"typ": "dpop+jwt", "jwk": key.as_dict(private=False), **extra}


REFUSED_PROOFS: dict[str, Proof] = {
    "wrong key": lambda a, t: dpop_proof(
        ECKey.generate_key("P-256"), "GET", API_URL, access_token=t
    ),
    "wrong htm": _proof(htm="POST"),
    "wrong htu path": _proof(htu=ISSUER + "/v1/admin/agencies"),
    "wrong htu host": _proof(htu="http://attacker.example:8000" + API),
    "wrong htu scheme": _proof(htu="https://127.0.0.1:8000" + API),
    "stale iat": _proof(iat=in_seconds(-120)),
    "iat from the future": _proof(iat=in_seconds(120)),
    "no iat": _proof(iat=None),
    "no jti": _proof(jti=None),
    "wrong ath": _proof(ath="x" * 43),
    "no ath": _proof(ath=None),
    "typ JWT": lambda a, t: sign(a.dpop_key, _proof_claims(t), _jwk_header(a.dpop_key, typ="JWT")),
    "no jwk": lambda a, t: sign(a.dpop_key, _proof_claims(t), {"typ": "dpop+jwt"}),
    "private jwk": lambda a, t: sign(
        a.dpop_key, _proof_claims(t), {"typ": "dpop+jwt", "jwk": a.dpop_key.as_dict(private=True)}
    ),
    "alg none": lambda a, t: unsigned(_jwk_header(a.dpop_key), _proof_claims(t)),
    "HS256 keyed with the jwk": lambda a, t: hs256(
        _jwk_header(a.dpop_key), _proof_claims(t), a.dpop_key.as_pem(private=False)
    ),
    "not a JWT": lambda _a, _t: "garbage",
}


@pytest.mark.parametrize("make", REFUSED_PROOFS.values(), ids=REFUSED_PROOFS.keys())
async def test_refused_proofs(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str], make: Proof
) -> None:
    proof = make(agency, token_of(bound))
    response = await client.get(API, headers={**bound, "DPoP": proof})
    assert_unauthorized(response, "invalid_dpop_proof", "invalid-dpop-proof")


async def test_the_helper_proof_is_accepted(
    client: httpx.AsyncClient, agency: TestAgency, bound: dict[str, str]
) -> None:
    """Each refused proof above differs from this one in one respect only."""
    response = await client.get(API, headers={**bound, "DPoP": _proof()(agency, token_of(bound))})
    assert response.status_code == 200, response.text


# --- at the token endpoint ---------------------------------------------------------------------


async def token_with_proof(
    client: httpx.AsyncClient, agency: TestAgency, proof: str
) -> httpx.Response:
    return await client.post(TOKEN_PATH, data=agency.token_form(), headers={"DPoP": proof})


async def test_token_endpoint_refuses_a_replayed_proof(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    proof = dpop_proof(agency.dpop_key, "POST", agency.token_url)
    assert (await token_with_proof(client, agency, proof)).status_code == 200
    assert_oauth_error(await token_with_proof(client, agency, proof), 400, "invalid_dpop_proof")


@pytest.mark.parametrize(
    "claims",
    [
        {"htm": "GET"},
        {"htu": ISSUER + "/oauth/other"},
        {"iat": in_seconds(-120)},
    ],
    ids=["wrong htm", "wrong htu", "stale iat"],
)
async def test_token_endpoint_refuses_bad_proofs(
    client: httpx.AsyncClient, agency: TestAgency, claims: dict[str, Any]
) -> None:
    proof = dpop_proof(agency.dpop_key, "POST", agency.token_url, claims=claims)
    assert_oauth_error(await token_with_proof(client, agency, proof), 400, "invalid_dpop_proof")


# --- FAPI 2.0 mode ------------------------------------------------------------------------------


async def test_required_dpop_refuses_unbound_tokens_and_proofless_requests(
    client: httpx.AsyncClient, registry: Registry, serving: Serving
) -> None:
    agency = await registry.agency(scopes="alerts:read")
    unbound = (await agency.token(client))["access_token"]
    async with serving(require_dpop=True) as (strict, _registry):
        response = await strict.get(API, headers={"Authorization": f"Bearer {unbound}"})
        assert_unauthorized(response)
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("DPoP ")
        assert "Bearer" not in challenge

        form = agency.token_form()
        assert_oauth_error(await strict.post(TOKEN_PATH, data=form), 400, "invalid_dpop_proof")

        bound = await agency.headers(strict, dpop=True)
        accepted = await strict.get(API, headers=agency.proof_headers(bound, "GET", API))
        assert accepted.status_code == 200, accepted.text
