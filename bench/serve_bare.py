"""Serve the bare baseline the way ``exchange-api serve`` serves the exchange.

``python -m bench.serve_bare --port P --workers N``: the same supervisor (one ``SO_REUSEPORT``
socket per worker on Linux, :mod:`exchange_api.serving`) and the same HTTP protocol, so that the
secure/bare ratio measures the cost of security and nothing of how connections reach workers.
"""

from __future__ import annotations

import argparse

from exchange_api.http_protocol import NoDelayH11Protocol
from exchange_api.serving import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve(
        "bench.bare_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        http=NoDelayH11Protocol,
    )


if __name__ == "__main__":
    main()
