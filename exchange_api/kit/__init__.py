"""The shared lower layer every domain builds on, and none re-implements.

- ``dependencies``: the app-wide request inputs (session, settings, keyring, ``X-Purpose``);
- ``pagination``: one keyset pagination and one opaque cursor format for every list;
- ``query_params``: refusing query parameters an endpoint does not know;
- ``rate_limits``: the per-client, per-address and guessing limits, and their headers;
- ``failures``: one log line per kind of failure and interval (an outage is not a log flood);
- ``commit_woken``: a worker's background pass woken by commits (the audit and event sequencers).

The problem renderer, where each error class also documents itself for OpenAPI, is
``exchange_api.errors``. Nothing here imports a domain package (a test enforces it).
"""
