"""HTTP endpoints of the events domain (docs/contract.md, "Events"): the feed, its stream, and
watch lists.

The feed's endpoint is ``async`` and reads in short transactions of its own (:func:`_read_once`),
not in the request's session (which it ends at once): a long-poll or a stream waits between
reads on the worker's :class:`~exchange_api.events.hub.FeedHub`, holding neither a database
connection nor a thread — and on SQLite a session holds the write lock from its first statement
to its commit.
Each read is one transaction with its audit entry, committed before its events are sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.audit.denials import record_refusal
from exchange_api.audit.recorder import AuditDep, AuditRecorder, AuditUnavailable
from exchange_api.auth.caller import Caller
from exchange_api.auth.resource import caller_now
from exchange_api.auth.scopes import AlertsRead
from exchange_api.db import before_commit, commit_request_session, roll_back_request_session
from exchange_api.errors import ProblemError, responses
from exchange_api.events import service, subscriptions
from exchange_api.events.errors import CursorExpired, SubscriptionNotFound
from exchange_api.events.hub import FeedHub
from exchange_api.events.schemas import (
    DeliveryList,
    EventPage,
    EventQuery,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionRead,
)
from exchange_api.kit.dependencies import (
    KeyringDep,
    PurposeHeader,
    PurposeRequired,
    SessionDep,
    SettingsDep,
    run_then_commit,
)
from exchange_api.kit.pagination import CursorQuery, InvalidCursor, LimitQuery
from exchange_api.kit.query_params import forbid_unknown_query_params
from exchange_api.kit.rate_limits import limit_guesses

__all__ = ["HEARTBEAT_SECONDS", "router"]

router = APIRouter(tags=["events"])

HEARTBEAT_SECONDS = 15.0
_STREAM = "text/event-stream"


def _read_once(
    request: Request, caller: Caller, query: EventQuery, *, record_empty: bool
) -> service.FeedOutcome:
    """One read of the feed in a transaction of its own, with its audit entry."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    audit = AuditRecorder.for_request(request, session)
    before_commit(session, audit.flush)
    try:
        outcome = service.read_events(session, caller, query, audit, record_empty=record_empty)
    except BaseException:
        roll_back_request_session(session)
        raise
    commit_request_session(session)
    return outcome


@router.get(
    "/events",
    response_model=EventPage,
    dependencies=[Depends(forbid_unknown_query_params(EventQuery.model_fields))],
    responses=responses(
        {200: {"content": {_STREAM: {"schema": {"type": "string"}}}}},
        CursorExpired.response("The cursor is older than the 30 days events are kept."),
        InvalidCursor.response("The cursor is not one this feed gave."),
        SubscriptionNotFound.response("`subscription` is not one of the caller's watch lists."),
    ),
)
async def list_events(
    query: Annotated[EventQuery, Query()],
    caller: AlertsRead,
    request: Request,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> Response:
    """The events the caller may see, oldest first, after the cursor `after`.

    Who may see an event is decided now, as in search: an event about an alert the caller may
    no longer see is not delivered. `next_cursor` is never null: pass it as `after` to go on.
    `wait` (up to 30 s) holds an empty answer until an event comes. With
    `Accept: text/event-stream` the same feed is a Server-Sent Events stream (`id:` the cursor,
    `event:` the type, `data:` the event; `Last-Event-ID` resumes after that event; a comment
    line every 15 s). The token is checked again before every read after the first (and a
    stream's comment lines): a stream ends, and a long poll answers 401, once it has expired or
    been revoked or its client disabled. Events are kept 30 days; an older cursor is 410
    `cursor-expired`.
    """
    # The token check read the caller in the request's session: end that transaction now (on
    # SQLite it holds the write lock), the reads below have their own.
    await run_in_threadpool(session.commit)
    hub: FeedHub = request.app.state.event_hub
    if accept is not None and _STREAM in accept:
        if last_event_id is not None:
            query = query.model_copy(update={"after": last_event_id})
        first = await run_in_threadpool(_read_once, request, caller, query, record_empty=True)
        return StreamingResponse(
            _stream(request, caller, query, hub, first),
            media_type=_STREAM,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + query.wait
    while True:
        final = loop.time() >= deadline or hub.closed
        outcome = await run_in_threadpool(_read_once, request, caller, query, record_empty=final)
        if outcome.page.items or final:
            return JSONResponse(outcome.page.model_dump(mode="json"))
        query = query.model_copy(update={"after": outcome.page.next_cursor})
        await hub.wait_beyond(outcome.head, deadline - loop.time())
        caller = await caller_now(request)  # 401 if the token stopped being good meanwhile


def _frames(page: EventPage) -> str:
    return "".join(
        f"id: {item.id}\nevent: {item.type}\ndata: {item.model_dump_json()}\n\n"
        for item in page.items
    )


async def _stream(
    request: Request,
    caller: Caller,
    query: EventQuery,
    hub: FeedHub,
    outcome: service.FeedOutcome,
) -> AsyncIterator[str]:
    """The stream: each read's events, then a wait on the hub, with a comment line every
    ``HEARTBEAT_SECONDS`` while it is quiet. Before each read after the first, and before each
    comment, the caller is asked for again (``caller_now``): the stream ends at the first of
    them after its token stopped being good, that refusal recorded as any other is. It also
    ends when the server shuts down (the hub closes) or a read is refused (the watch list
    followed was deleted): the client reconnects and learns why."""
    yield ": events\n\n"
    while True:
        if outcome.page.items:
            yield _frames(outcome.page)
        query = query.model_copy(update={"after": outcome.page.next_cursor})
        if len(outcome.page.items) < query.limit:
            while not await hub.wait_beyond(outcome.head, HEARTBEAT_SECONDS):
                if hub.closed or not await _still_entitled(request):
                    return
                yield ": keep-alive\n\n"
        try:
            caller = await caller_now(request)
            outcome = await run_in_threadpool(
                _read_once, request, caller, query, record_empty=False
            )
        except ProblemError as refused:
            await _record_refusal(request, refused)
            return


async def _still_entitled(request: Request) -> bool:
    try:
        await caller_now(request)
    except ProblemError as refused:
        await _record_refusal(request, refused)
        return False
    return True


async def _record_refusal(request: Request, refused: ProblemError) -> None:
    """Record a stream's refusal (no handler sees it: the answer began long ago). If the log
    cannot take it, the stream ends all the same; the failure is logged."""
    with contextlib.suppress(AuditUnavailable):
        await run_in_threadpool(record_refusal, request, refused)


# --- watch lists ----------------------------------------------------------------------------

SubscriptionId = Annotated[uuid.UUID, Path(description="The watch list's id.")]
_NOT_OWNED = SubscriptionNotFound.response("No such watch list among the caller's.")
_NO_PARAMS = [Depends(forbid_unknown_query_params(()))]
_PAGE_PARAMS = [Depends(forbid_unknown_query_params(("cursor", "limit")))]


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    dependencies=_NO_PARAMS,
    responses=PurposeRequired.response("A party or document filter without X-Purpose."),
)
async def create_subscription(
    body: SubscriptionCreate,
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    settings: SettingsDep,
    audit: AuditDep,
    request: Request,
    response: Response,
    purpose: PurposeHeader = None,
) -> SubscriptionCreated:
    """Create a watch list: the feed's `subscription=` and each event's `subscriptions` name the
    lists an alert matched; with a `webhook`, every matching event is also POSTed to its URL.

    The filter takes the search filters (AND across, OR within a list). `party` and `document`
    need `X-Purpose`, are kept only as blind indexes and are shown back as `"<set>"`. A webhook
    URL must be `https` and resolve only to public addresses (422 otherwise). The answer holds
    the webhook's signing `secret`, shown this once. Each `party` or `document` counts against
    the same limit as searches by them (`EXCHANGE_RATE_LIMIT_GUESS`): a watch list is a guess
    that waits.
    """
    guesses = sum(value is not None for value in (body.filter.party, body.filter.document))
    if guesses:
        await limit_guesses(request, caller.client_id, count=guesses)
    created = await run_then_commit(
        session,
        lambda: subscriptions.create_subscription(
            session,
            keyring,
            caller,
            body,
            audit,
            purpose=purpose,
            allowed_hosts=settings.webhook_allowed_hosts,
        ),
    )
    response.headers["Location"] = f"/v1/subscriptions/{created.id}"
    return created


@router.get("/subscriptions", response_model=SubscriptionList, dependencies=_PAGE_PARAMS)
def list_subscriptions(
    caller: AlertsRead,
    session: SessionDep,
    audit: AuditDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> SubscriptionList:
    """The caller's watch lists (its client's), oldest first."""
    return subscriptions.list_subscriptions(session, caller, audit, cursor=cursor, limit=limit)


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionRead,
    dependencies=_NO_PARAMS,
    responses=_NOT_OWNED,
)
def read_subscription(
    subscription_id: SubscriptionId, caller: AlertsRead, session: SessionDep, audit: AuditDep
) -> SubscriptionRead:
    """One of the caller's watch lists."""
    return subscriptions.read_subscription(session, caller, subscription_id, audit)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    dependencies=_NO_PARAMS,
    responses=_NOT_OWNED,
)
def delete_subscription(
    subscription_id: SubscriptionId, caller: AlertsRead, session: SessionDep, audit: AuditDep
) -> Response:
    """Delete a watch list; deliveries still waiting are not sent."""
    subscriptions.delete_subscription(session, caller, subscription_id, audit)
    return Response(status_code=204)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    response_model=DeliveryList,
    dependencies=_PAGE_PARAMS,
    responses=_NOT_OWNED,
)
def list_deliveries(
    subscription_id: SubscriptionId,
    caller: AlertsRead,
    session: SessionDep,
    audit: AuditDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> DeliveryList:
    """The webhook deliveries of a watch list, newest event first: state, attempts, the last
    HTTP status or error."""
    return subscriptions.list_deliveries(
        session, caller, subscription_id, audit, cursor=cursor, limit=limit
    )


@router.post(
    "/subscriptions/{subscription_id}/resume",
    response_model=SubscriptionRead,
    dependencies=_NO_PARAMS,
    responses=_NOT_OWNED,
)
def resume_subscription(
    subscription_id: SubscriptionId, caller: AlertsRead, session: SessionDep, audit: AuditDep
) -> SubscriptionRead:
    """Resume a `failing` watch list: the deliveries that waited are retried now."""
    return subscriptions.resume_subscription(session, caller, subscription_id, audit)
