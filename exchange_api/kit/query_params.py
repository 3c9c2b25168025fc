"""Refusing query parameters an endpoint does not know.

FastAPI silently ignores unknown query parameters, so a misspelt search filter
(``?destinaton=NL``) would widen a search instead of failing. Endpoints that take filters
declare the names they accept and get a 400 for anything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from fastapi import Request

from exchange_api.errors import BadRequest

__all__ = ["forbid_unknown_query_params"]

# Names are caller-chosen text: cap how many and how much of each the error repeats.
_MAX_NAMES_REPORTED = 10
_MAX_NAME_LENGTH = 64


def forbid_unknown_query_params(allowed: Iterable[str]) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing query parameters not in ``allowed`` (400 ``unknown-query-parameter``).

    The problem names the unknown parameters (``unknown_parameters``), never their values.
    """
    accepted = frozenset(allowed)

    async def refuse_unknown_query_params(request: Request) -> None:
        unknown = sorted({name for name in request.query_params if name not in accepted})
        if not unknown:
            return
        reported = [name[:_MAX_NAME_LENGTH] for name in unknown[:_MAX_NAMES_REPORTED]]
        raise BadRequest(
            "Unknown query parameter(s): " + ", ".join(reported) + ".",
            slug="unknown-query-parameter",
            title="Unknown query parameter",
            extra={"unknown_parameters": reported},
        )

    return refuse_unknown_query_params
