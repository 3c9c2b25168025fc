"""The app-wide request inputs: the session, the settings, the keyring, and ``X-Purpose``.

Every domain's endpoints take these as typed aliases (``SessionDep``, ``SettingsDep``,
``KeyringDep``, ``PurposeHeader``) and no domain defines its own.

The dependencies that do no I/O are ``async def``: FastAPI runs them on the event loop instead of
sending each to a worker thread and back (a thread hop costs more than they do).

``X-Purpose`` says why the caller reads (a case reference); reads that decrypt, searches through a
blind index and the auditor's reads carry it into the audit record.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.config import Settings
from exchange_api.crypto import Keyring
from exchange_api.db import (
    commit_each_statement,
    commit_request_session,
    roll_back_request_session,
)
from exchange_api.errors import BadRequest
from exchange_api.kit.clock import Clock

__all__ = [
    "ClockDep",
    "KeyringDep",
    "PurposeHeader",
    "PurposeRequired",
    "SessionDep",
    "SettingsDep",
    "get_clock",
    "get_keyring",
    "get_session",
    "get_settings",
    "purpose_of",
    "require_purpose",
    "run_then_commit",
]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: committed when the endpoint returns, rolled back if it raises.

    ``async``, to save a trip to a worker thread: creating a session does no I/O (it connects at
    its first statement, in the endpoint's thread), and the commit or rollback and the close
    happen in one trip — or in none, when the endpoint committed with :func:`run_then_commit`."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(roll_back_request_session, session)
        raise
    if not session.info.pop(_COMMITTED, False):
        await run_in_threadpool(commit_request_session, session)


_COMMITTED = "committed_by_endpoint"
_T = TypeVar("_T")


async def run_then_commit(
    session: Session, work: Callable[[], _T], *, reads_only: bool = False
) -> _T:
    """Run an endpoint's blocking ``work`` (its service call) and commit the request's session
    after it, in one trip to a worker thread instead of two: for ``async`` endpoints on hot
    paths. The commit is the session dependency's (before-commit hooks, the audit record, then
    the commit); if ``work`` or the commit raises, the dependency rolls back as for any
    endpoint. The answer is sent after the commit either way.

    ``reads_only``: ``work`` writes nothing (its audit record is written at the commit), so its
    statements may each commit on their own (:func:`~exchange_api.db.commit_each_statement`)."""

    def work_and_commit() -> _T:
        if reads_only:
            commit_each_statement(session)
        result = work()
        commit_request_session(session)
        session.info[_COMMITTED] = True
        return result

    return await run_in_threadpool(work_and_commit)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_keyring(request: Request) -> Keyring:
    """The app's keyring (built at start-up over the loaded key material)."""
    keyring: Keyring = request.app.state.keyring
    return keyring


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    """The app's clock (``exchange_api.kit.clock``): what "now" and "today" are."""
    clock: Clock = request.app.state.clock
    return clock


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]

_PURPOSE_MAX_LENGTH = 200
_PURPOSE_PATTERN = r"^[^\x00-\x1f\x7f]+$"
_PURPOSE = re.compile(_PURPOSE_PATTERN)

PurposeHeader = Annotated[
    str | None,
    Header(
        alias="X-Purpose",
        min_length=1,
        max_length=_PURPOSE_MAX_LENGTH,
        pattern=_PURPOSE_PATTERN,
        description="Why the caller reads: a case reference or a short reason (audited).",
    ),
]


def purpose_of(request: Request) -> str | None:
    """The request's ``X-Purpose`` if it is one ``PurposeHeader`` accepts, else ``None``: for
    the record of a refusal, which happens before (or instead of) the endpoint's own parsing."""
    values = request.headers.getlist("x-purpose")
    if len(values) != 1:
        return None
    [value] = values
    if len(value) > _PURPOSE_MAX_LENGTH or not _PURPOSE.fullmatch(value):
        return None
    return value


class PurposeRequired(BadRequest):
    slug = "purpose-required"
    title = "Purpose required"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs an X-Purpose header (why: a case reference, 1 to 200 characters)."
        )


async def require_purpose(purpose: PurposeHeader = None) -> str:
    """The ``X-Purpose`` of a read that decrypts; 400 ``purpose-required`` without one."""
    if purpose is None:
        raise PurposeRequired("Reading an alert or its links")
    return purpose
