"""Alerts: the exchange format, field-level encryption of its sensitive groups, visibility,
search and links (docs/contract.md §3 and §5).

Modules, from the wire inwards:

- ``endpoints`` (HTTP, thin) and ``dependencies`` (keys, settings, ``X-Purpose``, media types);
- ``service`` (create, batch, read, search, history), ``changes`` (merge patch), ``links``,
  ``idempotency`` — the rules;
- ``visibility`` (who sees which alerts, field groups and follow-ups, as SQL), ``stages`` (an
  alert's penal-chain stage over the follow-ups a caller sees), ``repository`` (queries),
  ``records`` (API models ↔ rows), ``sealing`` and ``tags`` (the only callers of
  :mod:`exchange_api.crypto`), ``cursor``;
- ``schemas`` and ``vocabulary``: the exchange format itself.
"""
