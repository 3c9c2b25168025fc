"""The reference catalogue of precursors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.models import Substance

__all__ = ["AsyncSubstances", "Substances", "calls", "named"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def search(q: str | None, limit: int | None) -> Call[Page[Substance]]:
        return Call("GET", "/v1/substances", as_json, params=query(q=q, limit=limit))

    @staticmethod
    def get(cas: str) -> Call[Substance]:
        return Call("GET", f"/v1/substances/{cas}", as_json)


def named(substance: Substance, name: str) -> bool:
    """Whether ``name`` is the substance's name or one of its synonyms, ignoring case — the
    rule of a watch list's ``substance_name`` (docs/contract.md, "Watch lists")."""
    names = {substance["name"], *substance.get("synonyms", [])}
    return name.casefold() in {known.casefold() for known in names}


class Substances:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def search(self, q: str | None = None, *, limit: int | None = None) -> Iterator[Substance]:
        """Every listed substance whose name, synonyms or CAS number contain ``q``."""
        return self._run.iterate(calls.search(q, limit))

    def get(self, cas: str) -> Substance:
        return self._run.call(calls.get(cas))

    def cas_numbers(self, name: str) -> list[str]:
        """The CAS numbers of the substances called ``name`` (a name or synonym)."""
        return [s["cas"] for s in self.search(name) if named(s, name)]


class AsyncSubstances:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    def search(self, q: str | None = None, *, limit: int | None = None) -> AsyncIterator[Substance]:
        """Every listed substance whose name, synonyms or CAS number contain ``q``."""
        return self._run.iterate(calls.search(q, limit))

    async def get(self, cas: str) -> Substance:
        return await self._run.call(calls.get(cas))

    async def cas_numbers(self, name: str) -> list[str]:
        """The CAS numbers of the substances called ``name`` (a name or synonym)."""
        return [s["cas"] async for s in self.search(name) if named(s, name)]
