"""Signed checkpoints: the exact bytes signed, strict signatures, and the JWKS that names keys."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange_api.audit.checkpoints import (
    Checkpoint,
    InvalidCheckpointError,
    InvalidJWKSError,
    key_id,
    load_public_keys_from_jwks,
    public_jwks,
    sign_checkpoint,
    verify_checkpoint,
)

HASH = "f821daa1e2ba263daca0cfb12cec1343141cafea89fe7f15e391781d56f9d6fe"
AT = "2026-11-28T14:05:00.000000Z"
# RFC 8037 appendix A.3: the thumbprint of this Ed25519 public key.
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def checkpoint(key: Ed25519PrivateKey) -> Checkpoint:
    return sign_checkpoint(key, log_id="nl-prod", seq=5, hash_hex=HASH, at=AT)


def test_key_id_is_the_rfc7638_thumbprint() -> None:
    public_key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(RFC8037_X + "="))

    assert key_id(public_key) == RFC8037_THUMBPRINT


def test_signature_covers_the_canonical_json_of_log_id_seq_hash_at(
    key: Ed25519PrivateKey, checkpoint: Checkpoint
) -> None:
    payload = f'{{"at":"{AT}","hash":"{HASH}","log_id":"nl-prod","seq":5}}'.encode()
    signature = base64.urlsafe_b64decode(checkpoint.signature + "==")

    key.public_key().verify(signature, payload)  # raises if it does not
    assert checkpoint.signed_payload() == payload
    assert checkpoint.kid == key_id(key.public_key())
    assert "=" not in checkpoint.signature
    assert len(checkpoint.signature) == 86


def test_a_checkpoint_verifies_with_its_key(key: Ed25519PrivateKey, checkpoint: Checkpoint) -> None:
    assert verify_checkpoint(key.public_key(), checkpoint)


def test_a_checkpoint_does_not_verify_with_another_key(checkpoint: Checkpoint) -> None:
    assert not verify_checkpoint(Ed25519PrivateKey.generate().public_key(), checkpoint)


@pytest.mark.parametrize(
    "change",
    [
        {"log_id": "nl-test"},
        {"seq": 6},
        {"hash": "0" * 64},
        {"at": "2026-11-28T14:05:00.000001Z"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_signed_field_is_covered(
    key: Ed25519PrivateKey, checkpoint: Checkpoint, change: dict[str, Any]
) -> None:
    assert not verify_checkpoint(key.public_key(), replace(checkpoint, **change))


def test_signatures_are_decoded_strictly(key: Ed25519PrivateKey, checkpoint: Checkpoint) -> None:
    signature = checkpoint.signature
    # 64 bytes leave 4 spare bits in the last character: flipping one gives another spelling of
    # the same bytes, which a strict decoder refuses (one encoding per signature).
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelt = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(respelt + "==") == base64.urlsafe_b64decode(signature + "==")
    malformed = [
        respelt,
        signature + "==",
        signature[:-1] + "+",
        signature[:-2],
        signature + "AA",
        "",
        "!" * 86,
    ]

    for text in malformed:
        assert not verify_checkpoint(key.public_key(), replace(checkpoint, signature=text)), text


def test_wire_form_round_trips(checkpoint: Checkpoint) -> None:
    wire = checkpoint.as_dict()

    assert set(wire) == {"log_id", "seq", "hash", "at", "kid", "signature"}
    assert Checkpoint.from_dict(wire) == checkpoint


@pytest.mark.parametrize(
    "change",
    [
        {"extra": "x"},
        {"seq": "5"},
        {"seq": True},
        {"seq": -1},
        {"hash": HASH.upper()},
        {"hash": HASH[:-2]},
        {"at": "2026-11-28T14:05:00Z"},
        {"log_id": ""},
        {"kid": None},
        {"signature": 7},
    ],
    ids=repr,
)
def test_from_dict_refuses_a_malformed_checkpoint(
    checkpoint: Checkpoint, change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidCheckpointError):
        Checkpoint.from_dict({**checkpoint.as_dict(), **change})


def test_from_dict_refuses_a_missing_field(checkpoint: Checkpoint) -> None:
    wire = checkpoint.as_dict()
    del wire["kid"]

    with pytest.raises(InvalidCheckpointError):
        Checkpoint.from_dict(wire)


def test_sign_checkpoint_refuses_malformed_fields(key: Ed25519PrivateKey) -> None:
    with pytest.raises(InvalidCheckpointError, match="hash"):
        sign_checkpoint(key, log_id="nl-prod", seq=5, hash_hex="not hex", at=AT)


# --- JWKS ------------------------------------------------------------------------------------


def test_public_jwks_publishes_okp_keys_named_by_thumbprint() -> None:
    first = Ed25519PrivateKey.generate().public_key()
    second = Ed25519PrivateKey.generate().public_key()

    jwks = public_jwks([first, second, first])

    assert jwks == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64url(first.public_bytes_raw()),
                "kid": key_id(first),
                "alg": "EdDSA",
                "use": "sig",
            },
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64url(second.public_bytes_raw()),
                "kid": key_id(second),
                "alg": "EdDSA",
                "use": "sig",
            },
        ]
    }


def test_jwks_round_trip_verifies_checkpoints(
    key: Ed25519PrivateKey, checkpoint: Checkpoint
) -> None:
    loaded = load_public_keys_from_jwks(public_jwks([key.public_key()]))

    assert list(loaded) == [checkpoint.kid]
    assert verify_checkpoint(loaded[checkpoint.kid], checkpoint)


def test_a_jwk_without_kid_is_named_by_its_thumbprint() -> None:
    loaded = load_public_keys_from_jwks(
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}]}
    )

    assert list(loaded) == [RFC8037_THUMBPRINT]


_GOOD_JWK = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": RFC8037_THUMBPRINT}


@pytest.mark.parametrize(
    "jwks",
    [
        {},
        {"keys": "x"},
        {"keys": ["x"]},
        {"keys": [{**_GOOD_JWK, "kty": "EC"}]},
        {"keys": [{**_GOOD_JWK, "crv": "X25519"}]},
        {"keys": [{**_GOOD_JWK, "crv": "Ed448"}]},
        {"keys": [{**_GOOD_JWK, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]},
        {"keys": [{**_GOOD_JWK, "kid": "my-key"}]},
        {"keys": [{**_GOOD_JWK, "alg": "RS256"}]},
        {"keys": [{**_GOOD_JWK, "use": "enc"}]},
        {"keys": [{**_GOOD_JWK, "x": RFC8037_X + "="}]},
        {"keys": [{**_GOOD_JWK, "x": RFC8037_X[:-4]}]},
        {"keys": [{**_GOOD_JWK, "x": 5}]},
    ],
    ids=repr,
)
def test_load_public_keys_refuses_a_doubtful_jwks(jwks: dict[str, Any]) -> None:
    with pytest.raises(InvalidJWKSError):
        load_public_keys_from_jwks(jwks)
