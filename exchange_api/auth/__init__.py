"""OAuth2: the built-in authorization server, and the protection of every ``/v1`` route.

Authorization server (no token needed to reach it):

- :mod:`~exchange_api.auth.endpoints` — ``/oauth/token``, ``/oauth/revoke``, ``/oauth/introspect``,
  ``/.well-known/oauth-authorization-server``, ``/.well-known/jwks.json``;
- :mod:`~exchange_api.auth.service` — grants, scopes, DPoP binding; tokens are issued by
  ``issue_token`` and refused by ``deny_token``, nowhere else;
- :mod:`~exchange_api.auth.clients` — client authentication (``private_key_jwt``,
  ``client_secret_basic``) and client-signed JWTs;
- :mod:`~exchange_api.auth.tokens` — access tokens (RFC 9068 JWTs) signed and verified;
- :mod:`~exchange_api.auth.dpop` — DPoP proofs (RFC 9449);
- :mod:`~exchange_api.auth.jose` — pinned algorithms and accepted keys, on joserfc;
- :mod:`~exchange_api.auth.repository` — single-use identifiers, revocations, token state.

Resource server:

- :mod:`~exchange_api.auth.resource` — ``current_caller``, which the whole ``/v1`` router needs;
- :mod:`~exchange_api.auth.scopes` — ``AlertsRead``, ``AlertsWrite``, ``AuditRead``, ``Admin``;
- :mod:`~exchange_api.auth.caller` — the :class:`Caller` every domain receives.

Authlib has no Starlette integration and no DPoP (docs/decisions/0011-oauth-on-joserfc.md):
everything is written directly on joserfc, the JOSE library Authlib itself builds on; no JWS
is signed or verified by hand.
"""
