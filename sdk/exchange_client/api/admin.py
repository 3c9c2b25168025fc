"""Admin (scope ``admin``): agencies and their clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.models import (
    AgencyCreate,
    AgencyRead,
    ClientCreate,
    ClientRead,
    ClientRegistered,
)

__all__ = ["Admin", "AsyncAdmin", "calls"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def create_agency(body: AgencyCreate | Mapping[str, Any]) -> Call[AgencyRead]:
        return Call.post("/v1/admin/agencies", as_json, dict(body))

    @staticmethod
    def agencies(limit: int | None) -> Call[Page[AgencyRead]]:
        return Call("GET", "/v1/admin/agencies", as_json, params=query(limit=limit))

    @staticmethod
    def create_client(body: ClientCreate | Mapping[str, Any]) -> Call[ClientRegistered]:
        return Call.post("/v1/admin/clients", as_json, dict(body))

    @staticmethod
    def clients(agency_id: str | None, limit: int | None) -> Call[Page[ClientRead]]:
        params = query(agency_id=agency_id, limit=limit)
        return Call("GET", "/v1/admin/clients", as_json, params=params)

    @staticmethod
    def disable_client(client_id: str) -> Call[ClientRead]:
        return Call.post(f"/v1/admin/clients/{client_id}/disable", as_json, None)


class Admin:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def create_agency(self, body: AgencyCreate | Mapping[str, Any]) -> AgencyRead:
        return self._run.call(calls.create_agency(body))

    def agencies(self, *, limit: int | None = None) -> Iterator[AgencyRead]:
        return self._run.iterate(calls.agencies(limit))

    def create_client(self, body: ClientCreate | Mapping[str, Any]) -> ClientRegistered:
        return self._run.call(calls.create_client(body))

    def clients(
        self, *, agency_id: str | None = None, limit: int | None = None
    ) -> Iterator[ClientRead]:
        return self._run.iterate(calls.clients(agency_id, limit))

    def disable_client(self, client_id: str) -> ClientRead:
        return self._run.call(calls.disable_client(client_id))


class AsyncAdmin:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    async def create_agency(self, body: AgencyCreate | Mapping[str, Any]) -> AgencyRead:
        return await self._run.call(calls.create_agency(body))

    def agencies(self, *, limit: int | None = None) -> AsyncIterator[AgencyRead]:
        return self._run.iterate(calls.agencies(limit))

    async def create_client(self, body: ClientCreate | Mapping[str, Any]) -> ClientRegistered:
        return await self._run.call(calls.create_client(body))

    def clients(
        self, *, agency_id: str | None = None, limit: int | None = None
    ) -> AsyncIterator[ClientRead]:
        return self._run.iterate(calls.clients(agency_id, limit))

    async def disable_client(self, client_id: str) -> ClientRead:
        return await self._run.call(calls.disable_client(client_id))
