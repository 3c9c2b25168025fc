"""The reference catalogue of precursors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.models import Substance

__all__ = ["AsyncSubstances", "Substances", "calls"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def search(q: str | None, limit: int | None) -> Call[Page[Substance]]:
        return Call("GET", "/v1/substances", as_json, params=query(q=q, limit=limit))

    @staticmethod
    def get(cas: str) -> Call[Substance]:
        return Call("GET", f"/v1/substances/{cas}", as_json)


class Substances:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def search(self, q: str | None = None, *, limit: int | None = None) -> Iterator[Substance]:
        """Every listed substance whose name, synonyms or CAS number contain ``q``."""
        return self._run.iterate(calls.search(q, limit))

    def get(self, cas: str) -> Substance:
        return self._run.call(calls.get(cas))


class AsyncSubstances:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    def search(self, q: str | None = None, *, limit: int | None = None) -> AsyncIterator[Substance]:
        """Every listed substance whose name, synonyms or CAS number contain ``q``."""
        return self._run.iterate(calls.search(q, limit))

    async def get(self, cas: str) -> Substance:
        return await self._run.call(calls.get(cas))
