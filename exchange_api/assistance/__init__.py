"""Requests for assistance between agencies, about an alert (docs/contract.md, "Requests").

One agency asks another — backtracking in the origin country, more information, a controlled
delivery, or permission to use H1 information in judicial proceedings — with a deadline; the
addressee answers or declines, once. Only the two agencies see a request.

The package is called ``assistance`` (requests for assistance, as mutual legal assistance names
them), not ``requests``: ``exchange_api.requests`` would read, in imports and tracebacks, like
the HTTP library of that name.
"""
