"""The directory: every member agency's id, name, country and kind, for any valid token —
where a client finds the ids for ``distribution.agencies`` and for requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.models import AgencyEntry, AgencyKind

__all__ = ["AsyncDirectory", "Directory", "calls"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def agencies(
        q: str | None, country: str | None, kind: AgencyKind | None, limit: int | None
    ) -> Call[Page[AgencyEntry]]:
        params = query(q=q, country=country, kind=kind, limit=limit)
        return Call("GET", "/v1/agencies", as_json, params=params)

    @staticmethod
    def agency(agency_id: str) -> Call[AgencyEntry]:
        return Call("GET", f"/v1/agencies/{agency_id}", as_json)


class Directory:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def agencies(
        self,
        q: str | None = None,
        *,
        country: str | None = None,
        kind: AgencyKind | None = None,
        limit: int | None = None,
    ) -> Iterator[AgencyEntry]:
        """Member agencies, oldest first; ``q`` is a part of the name (ignoring case)."""
        return self._run.iterate(calls.agencies(q, country, kind, limit))

    def agency(self, agency_id: str) -> AgencyEntry:
        return self._run.call(calls.agency(agency_id))


class AsyncDirectory:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    def agencies(
        self,
        q: str | None = None,
        *,
        country: str | None = None,
        kind: AgencyKind | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[AgencyEntry]:
        """Member agencies, oldest first; ``q`` is a part of the name (ignoring case)."""
        return self._run.iterate(calls.agencies(q, country, kind, limit))

    async def agency(self, agency_id: str) -> AgencyEntry:
        return await self._run.call(calls.agency(agency_id))
