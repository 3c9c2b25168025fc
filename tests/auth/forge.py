"""An attacker's tools: JWTs made by hand, because no honest library will make them.

Only tests use these; the service never builds or checks a JWS by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(document: dict[str, Any]) -> str:
    return b64url(json.dumps(document, separators=(",", ":")).encode())


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``alg: none``: no signature at all."""
    return f"{_segment({**header, 'alg': 'none'})}.{_segment(claims)}."


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HS256 keyed with ``secret`` — e.g. the verifier's *public* key (algorithm confusion)."""
    signing_input = f"{_segment({**header, 'alg': 'HS256'})}.{_segment(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def tamper(token: str, **changes: Any) -> str:
    """The same header and signature over changed claims."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{_segment(claims)}.{signature}"


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a JWS, unverified (for reading our own test tokens)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded
