"""The auditor API (scope ``audit:read``): events, export, checkpoints and keys.

Every call is itself recorded (``audit.read``, ``audit.export``, ``audit.checkpoint``), with the
auditor's ``X-Purpose`` when one is given.
"""

from __future__ import annotations

import uuid
from datetime import MAXYEAR, UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, AwareDatetime
from sqlalchemy.exc import SQLAlchemyError

from exchange_api.audit import service
from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.recorder import AuditDep, audit_unavailable, get_audit_log
from exchange_api.audit.repository import AuditFilters
from exchange_api.audit.schemas import AuditEventList, AuditKeySet, CheckpointRead
from exchange_api.auth.scopes import AuditRead
from exchange_api.kit.dependencies import PurposeHeader, SessionDep
from exchange_api.kit.pagination import CursorQuery, LimitQuery
from exchange_api.kit.query_params import forbid_unknown_query_params

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])

NDJSON_MEDIA_TYPE = "application/x-ndjson"
_EVENT_FILTERS = (
    "actor",
    "agency",
    "client_id",
    "action",
    "alert_id",
    "outcome",
    "after",
    "before",
)
_NO_PARAMS = [Depends(forbid_unknown_query_params(()))]


def _in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, as the log stores its times. A moment UTC cannot write (its offset
    carries ``9999-12-31T23:59:59-12:00`` past year 9999, or ``0001-01-01T00:00:00+14:00``
    before year 1) becomes that end of time: no entry lies beyond it either way."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        end = datetime.max if moment.year == MAXYEAR else datetime.min
        return end.replace(tzinfo=UTC)


_Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def _chain_intake_first(_caller: AuditRead, request: Request, session: SessionDep) -> None:
    """Chain the entries still in the intake, in the request's transaction, before reading the
    log: an auditor sees every entry recorded until now. (After the token check: an anonymous
    request does not get to take the chain-head lock.) 503 if the chain cannot be written: the
    entries wait in the intake, and the log is not shown without them."""
    try:
        get_audit_log(request).chain_all(session)
    except SQLAlchemyError as exc:
        raise audit_unavailable(exc) from exc


_CHAINED = Depends(_chain_intake_first)


@router.get(
    "/events",
    response_model=AuditEventList,
    dependencies=[
        Depends(forbid_unknown_query_params({*_EVENT_FILTERS, "cursor", "limit"})),
        _CHAINED,
    ],
)
def list_audit_events(
    _caller: AuditRead,
    audit: AuditDep,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=200, description="Token sub.")] = None,
    agency: Annotated[uuid.UUID | None, Query(description="The caller's agency id.")] = None,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[AuditAction | None, Query()] = None,
    alert_id: Annotated[uuid.UUID | None, Query(description="Entries naming this alert.")] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    after: Annotated[_Moment | None, Query(description="Strictly after (RFC 3339).")] = None,
    before: Annotated[_Moment | None, Query(description="Strictly before (RFC 3339).")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    purpose: PurposeHeader = None,
) -> AuditEventList:
    """Audit log entries, oldest first, filtered (all filters combine with AND).

    `alert_id` finds every entry that names the alert: who created, read, changed, found or
    was refused it. Each item carries `prev_hash` and `hash`, so any entry can be checked
    against the chain; `/v1/audit/export` gives the whole chain for offline verification.
    """
    filters = AuditFilters(
        actor=actor,
        agency=str(agency) if agency is not None else None,
        client_id=client_id,
        action=action,
        alert_id=alert_id,
        outcome=outcome,
        after=after,
        before=before,
    )
    return service.list_events(session, filters, audit, cursor=cursor, limit=limit, purpose=purpose)


@router.get(
    "/export",
    response_class=StreamingResponse,
    dependencies=[Depends(forbid_unknown_query_params({"from_seq"})), _CHAINED],
    responses={
        200: {
            "content": {NDJSON_MEDIA_TYPE: {}},
            "description": "One entry per line (with prev_hash and hash), in seq order.",
        }
    },
)
def export_audit_log(
    _caller: AuditRead,
    audit: AuditDep,
    session: SessionDep,
    request: Request,
    from_seq: Annotated[int, Query(ge=1, description="First seq to export.")] = 1,
    purpose: PurposeHeader = None,
) -> StreamingResponse:
    """The log as NDJSON from `from_seq` up to the newest entry at the time of the request,
    streamed: each line is exactly a hashed entry plus `prev_hash` and `hash`, so the chain
    can be recomputed from the export alone (see the README's auditor walk-through and
    `exchange-api audit verify --export`). `X-Audit-Last-Seq` says where it ends."""
    span = service.export_range(session, from_seq, audit, purpose=purpose)
    lines = service.export_lines(request.app.state.session_factory, span)
    return StreamingResponse(
        lines,
        media_type=NDJSON_MEDIA_TYPE,
        headers={"X-Audit-Last-Seq": str(span.to_seq), "Cache-Control": "no-store"},
    )


@router.get(
    "/checkpoints/latest",
    response_model=CheckpointRead,
    dependencies=[*_NO_PARAMS, _CHAINED],
    responses=service.NoCheckpointYet.response("No checkpoint signed yet."),
)
def latest_checkpoint(_caller: AuditRead, audit: AuditDep, session: SessionDep) -> CheckpointRead:
    """The newest signed checkpoint: it pins the chain's hash at its `seq`."""
    return CheckpointRead.of(service.latest_checkpoint(session, audit))


@router.post(
    "/checkpoints",
    status_code=201,
    response_model=CheckpointRead,
    dependencies=[*_NO_PARAMS, _CHAINED],
    responses={200: {"model": CheckpointRead, "description": "The head already had one."}},
)
def sign_checkpoint(
    _caller: AuditRead, audit: AuditDep, session: SessionDep, request: Request, response: Response
) -> CheckpointRead:
    """Sign a checkpoint of the log as it is now (201), or give the one the newest entry
    already has (200). Take one before an export to pin everything the export will hold."""
    checkpoint, created = service.sign_checkpoint(session, get_audit_log(request), audit)
    if not created:
        response.status_code = 200
    return CheckpointRead.of(checkpoint)


@router.get("/keys", response_model=AuditKeySet, dependencies=_NO_PARAMS)
def audit_keys(_caller: AuditRead, audit: AuditDep, request: Request) -> AuditKeySet:
    """The public keys (JWKS of Ed25519 OKP keys) that verify the checkpoints; `kid` is each
    key's RFC 7638 thumbprint."""
    return service.audit_keys(get_audit_log(request), audit)
