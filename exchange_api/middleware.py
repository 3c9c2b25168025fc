"""Pure-ASGI middleware: request ids, the headers every answer carries, the access log, and the
request body limit.

Written against ASGI directly rather than Starlette's ``BaseHTTPMiddleware``, which buffers and
costs a task per request; these run on every call.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_api.errors import PayloadTooLarge, internal_error_response, problem_response
from exchange_api.kit.rate_limits import rate_limit_headers

__all__ = ["BodySizeLimitMiddleware", "RequestContextMiddleware"]

access_logger = logging.getLogger("exchange_api.access")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
#: Answers under these prefixes hold case data or credentials: never stored by a cache.
_NO_STORE_PREFIXES = ("/v1/", "/oauth/")
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")


_REPLACED = frozenset({b"x-request-id", b"x-content-type-options"})
_REPLACED_NO_STORE = _REPLACED | {b"cache-control"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Give every response an ``X-Request-ID`` and write one JSON access-log line per request.

    Every response also gets ``X-Content-Type-Options: nosniff``, and every ``/v1`` and ``/oauth``
    one ``Cache-Control: no-store`` (replacing what the endpoint said), errors included: set here,
    where every answer passes, no endpoint can forget them. So do the ``RateLimit`` headers of
    the limits the request counted against (``exchange_api.kit.rate_limits``).

    The caller's id is kept when it is a sane token (so agencies can correlate across systems);
    anything else is replaced, never echoed. The log line holds method, route path, status,
    duration, request id and client id — never bodies or query strings, which may hold
    case data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, b"x-request-id")
        if offered is not None and _SANE_REQUEST_ID.fullmatch(offered):
            request_id = offered
        else:
            request_id = str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        no_store = str(scope["path"]).startswith(_NO_STORE_PREFIXES)
        replaced = _REPLACED_NO_STORE if no_store else _REPLACED

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k not in replaced]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                headers.append(_NOSNIFF)
                if no_store:
                    headers.append(_NO_STORE)
                headers.extend(rate_limit_headers(state))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Code paths go to the log, never to the caller; the exception's message does not go
            # anywhere, since it may quote a value (a pydantic error quotes its input).
            access_logger.error(
                "unhandled exception",
                extra={
                    "request_id": request_id,
                    "event": {
                        "error": type(exc).__name__,
                        "stack": "".join(traceback.format_tb(exc.__traceback__)),
                    },
                },
            )
            if not response_started:
                await internal_error_response()(scope, receive, send_with_id)
        finally:
            # A 5xx is the service's failure, whoever rendered it: an operator filtering the log
            # by level must find every one (the request's own line is the one place they all
            # pass through).
            access_logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "request",
                extra={
                    "http": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                    "request_id": request_id,
                    "client_id": state.get("client_id"),
                },
            )


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` while they are read, not after.

    A declared ``Content-Length`` over the limit is answered 413 at once; a body that grows past
    the limit as it streams (chunked, or a lying length) raises ``PayloadTooLarge`` from
    ``receive``, which the error handlers render as the same 413 problem.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            error = self._too_large()
            response = problem_response(error.status, error.slug, error.title, error.detail)
            await response(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, limited_receive, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body exceeds the limit of {self.max_bytes} bytes.")
