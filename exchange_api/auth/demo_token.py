"""Print an access token of a demo client, for trying the API from a shell::

    TOKEN=$(.venv/bin/python -m exchange_api.auth.demo_token customs)
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/v1/substances

It does what an agency's system does: sign a client assertion (``private_key_jwt``, ES256) with the
demo client's key from ``keys/demo/<kind>.pem`` — or, with ``--officer``, a JWT-bearer grant naming
the officer — and ask ``POST /oauth/token`` on ``EXCHANGE_ISSUER``. The token goes to stdout,
anything else to stderr. Development only: the demo keys exist after ``exchange-api init --demo``.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Sequence

import httpx
from joserfc import jwt
from pydantic import ValidationError

from exchange_api.auth.clients import CLIENT_ASSERTION_TYPE
from exchange_api.auth.server import TOKEN_PATH
from exchange_api.auth.service import GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER
from exchange_api.config import Settings
from exchange_api.crypto import KeyFileError
from exchange_api.demo import demo_client_id, load_demo_key
from exchange_api.models.agencies import AgencyKind

__all__ = ["main"]

_ASSERTION_LIFETIME = 60


def _form(settings: Settings, kind: AgencyKind, officer: str | None) -> dict[str, str]:
    client_id = demo_client_id(kind)
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": officer or client_id,
        "aud": settings.issuer + TOKEN_PATH,
        "iat": now,
        "exp": now + _ASSERTION_LIFETIME,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode({"alg": "ES256"}, claims, load_demo_key(settings.keys_dir, kind))
    if officer is not None:
        return {"grant_type": GRANT_JWT_BEARER, "assertion": assertion}
    return {
        "grant_type": GRANT_CLIENT_CREDENTIALS,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m exchange_api.auth.demo_token", description=__doc__.splitlines()[0]
    )
    parser.add_argument("agency", choices=[kind.value for kind in AgencyKind])
    parser.add_argument("--officer", help="act for this officer (JWT-bearer grant)")
    parser.add_argument("--scope", help="space-separated scopes (default: all registered)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        form = _form(settings, AgencyKind(args.agency), args.officer)
    except (ValidationError, KeyFileError) as exc:
        print(f"demo_token: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    if args.scope:
        form["scope"] = args.scope
    try:
        response = httpx.post(settings.issuer + TOKEN_PATH, data=form, timeout=10)
    except httpx.HTTPError as exc:
        print(f"demo_token: {settings.issuer} cannot be reached ({exc})", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"demo_token: {response.status_code} {response.text}", file=sys.stderr)
        return 1
    print(response.json()["access_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
