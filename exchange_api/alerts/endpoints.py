"""HTTP endpoints of the alerts domain (docs/contract.md, "Alerts"): thin, each calls one service,
which also records the call in the audit log.

The calls taken most often (one alert, a search, a create, a batch) are ``async`` and run their
service call and the commit in one trip to a worker thread
(:func:`~exchange_api.kit.dependencies.run_then_commit`); the reads among them (one alert, a
search) run without a transaction on PostgreSQL, each statement committing on its own.

Mounted under ``/v1``, whose router already requires an authenticated caller; each endpoint
names its scope with ``AlertsRead`` / ``AlertsWrite``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel

from exchange_api.alerts import changes, links, service
from exchange_api.alerts.dependencies import IdempotencyKeyHeader, merge_patch_media_type
from exchange_api.alerts.errors import (
    AlertNotFound,
    AlertShredded,
    IdempotencyKeyReused,
    NotAlertOwner,
    StaleVersion,
    UnsupportedMediaType,
    VersionRequired,
)
from exchange_api.alerts.schemas import (
    AlertCreate,
    AlertHistory,
    AlertLinks,
    AlertList,
    AlertPatch,
    AlertQuery,
    AlertRead,
    AlertReceipt,
    BatchCreate,
    BatchResult,
)
from exchange_api.audit.recorder import AuditDep
from exchange_api.auth.scopes import AlertsRead, AlertsWrite
from exchange_api.config import Settings
from exchange_api.errors import responses
from exchange_api.kit.dependencies import (
    KeyringDep,
    PurposeHeader,
    SessionDep,
    SettingsDep,
    require_purpose,
    run_then_commit,
)
from exchange_api.kit.pagination import next_link
from exchange_api.kit.query_params import forbid_unknown_query_params
from exchange_api.kit.rate_limits import limit_guesses
from exchange_api.kit.responses import json_response, model_response
from exchange_api.statistics.emerging import EmergingThresholds

__all__ = ["router"]

router = APIRouter(prefix="/alerts", tags=["alerts"])

AlertId = Annotated[uuid.UUID, Path(description="The alert's id (a UUIDv7).")]

_NOT_VISIBLE = AlertNotFound.response("No such alert, or not visible to the caller.")
_SHREDDED = AlertShredded.response("Past its review date: its content was destroyed.")
_NO_PARAMS = [Depends(forbid_unknown_query_params(()))]


@router.post(
    "",
    status_code=201,
    response_model=AlertReceipt,
    dependencies=_NO_PARAMS,
    responses=IdempotencyKeyReused.response("Idempotency-Key reused with another body."),
)
async def create_alert(
    body: AlertCreate,
    caller: AlertsWrite,
    session: SessionDep,
    keyring: KeyringDep,
    settings: SettingsDep,
    audit: AuditDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Report an alert for the caller's agency.

    Answers 201 with `Location` and `ETag` (`"v1"`) and a receipt: the id, the version, the
    review date and what the catalogue says of each substance (`scheduled: false` for a CAS
    number it does not list). With `Idempotency-Key`, a retry with the same body gets the same
    receipt again (201, `Idempotent-Replayed: true`) and creates nothing; the same key with
    another body is 409. Keys are per client and remembered for 7 days
    (`EXCHANGE_IDEMPOTENCY_KEY_DAYS`); after that a request with the key creates a new alert.
    """

    def create() -> service.CreateOutcome:
        return service.create_alert(
            session, keyring, caller, body, audit, **_create_terms(settings, idempotency_key)
        )

    outcome = await run_then_commit(session, create)
    receipt = outcome.receipt
    headers = {"Location": f"/v1/alerts/{receipt.id}", "ETag": service.etag_of(receipt.version)}
    return _json(receipt, 201, headers, replayed=outcome.replayed)


@router.post(
    "/batch",
    response_model=BatchResult,
    dependencies=_NO_PARAMS,
    responses=IdempotencyKeyReused.response("Idempotency-Key reused with another batch."),
)
async def create_alerts(
    body: BatchCreate,
    caller: AlertsWrite,
    session: SessionDep,
    keyring: KeyringDep,
    settings: SettingsDep,
    audit: AuditDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Report up to 500 alerts at once.

    Each item is validated on its own: the answer (200) has one result per item, in order —
    `{index, id}` for a stored alert, `{index, error}` with a problem document for a refused one
    — and one bad item does not stop the others. More than 500 items is refused whole (422).
    With `Idempotency-Key`, the same batch sent again (a retry after a lost answer) gets the
    first answer (`Idempotent-Replayed: true`) and stores nothing; the key with another batch is
    409. Keys are per client, shared with single creates, and kept 7 days.
    """

    def create() -> service.BatchOutcome:
        return service.create_alerts(
            session, keyring, caller, body, audit, **_create_terms(settings, idempotency_key)
        )

    outcome = await run_then_commit(session, create)
    return _json(outcome.result, 200, {}, replayed=outcome.replayed)


def _create_terms(settings: Settings, idempotency_key: str | None) -> dict[str, Any]:
    """What both creates are made under: the review period, the early-warning thresholds and
    the ``Idempotency-Key`` with how long keys are kept."""
    return {
        "review_years": settings.alert_review_years,
        "emerging": EmergingThresholds.of(settings),
        "idempotency_key": idempotency_key,
        "idempotency_kept": timedelta(days=settings.idempotency_key_days),
    }


def _json(model: BaseModel, status: int, headers: dict[str, str], *, replayed: bool) -> Response:
    """A create's answer (``Idempotent-Replayed: true`` when it repeats the first one)."""
    if replayed:
        headers = {**headers, "Idempotent-Replayed": "true"}
    return model_response(model, status_code=status, headers=headers)


@router.get(
    "",
    response_model=AlertList,
    dependencies=[Depends(forbid_unknown_query_params(AlertQuery.model_fields))],
)
async def search_alerts(
    query: Annotated[AlertQuery, Query()],
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    audit: AuditDep,
    request: Request,
    purpose: PurposeHeader = None,
) -> Response:
    """Find visible alerts, newest first: routing facts only, nothing decrypted.

    Filters combine with AND; a repeated `substance`, `incident_type` or `status` matches any
    of its values. `party` (a company name or identifier) and `document` match exactly through
    blind indexes, ignoring case, spacing and punctuation, and need `X-Purpose`. Pages follow
    `next_cursor` (also given as a `Link: rel="next"` header); alerts created meanwhile never
    shift later pages. Unknown parameters are refused (400). Searches by `party` or `document`
    have a tighter rate limit of their own (`EXCHANGE_RATE_LIMIT_GUESS`, 429 past it).
    """

    if query.party is not None or query.document is not None:
        await limit_guesses(request, caller.client_id)

    def search() -> service.SearchOutcome:
        return service.search_alerts(session, keyring, caller, query, audit, purpose=purpose)

    # Written here, once, as the model the route declares would be: returned as a model, the
    # page would be built and validated again (fastapi.routing).
    outcome = await run_then_commit(session, search, reads_only=True)
    return json_response(outcome.json(), headers=next_link(request.url, outcome.next_cursor))


@router.get(
    "/{alert_id}",
    response_model=AlertRead,
    dependencies=_NO_PARAMS,
    responses=responses(_NOT_VISIBLE, _SHREDDED),
)
async def read_alert(
    alert_id: AlertId,
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    audit: AuditDep,
    purpose: Annotated[str, Depends(require_purpose)],
) -> Response:
    """Read one alert, stating why (`X-Purpose`, e.g. a case reference; 400 without).

    Field groups the caller's agency kind may not see are absent and listed in `withheld`
    (they are not even decrypted). `ETag` names the version, for `If-Match` on a change.
    An alert past its review date is 410 `alert-shredded`: its content no longer exists.
    """

    def read() -> service.AlertView:
        return service.read_alert(session, keyring, caller, alert_id, audit, purpose=purpose)

    view = await run_then_commit(session, read, reads_only=True)
    return json_response(view.json(), headers={"ETag": view.etag})


@router.patch(
    "/{alert_id}",
    response_model=AlertReceipt,
    dependencies=[*_NO_PARAMS, Depends(merge_patch_media_type)],
    responses=responses(
        _NOT_VISIBLE,
        _SHREDDED,
        NotAlertOwner.response("Visible, but not the caller's agency's alert."),
        StaleVersion.response("The alert changed since the version in If-Match."),
        UnsupportedMediaType.response("Not application/merge-patch+json."),
        VersionRequired.response("If-Match missing."),
    ),
)
def update_alert(
    alert_id: AlertId,
    patch: Annotated[AlertPatch, Body(media_type="application/merge-patch+json")],
    caller: AlertsWrite,
    session: SessionDep,
    keyring: KeyringDep,
    settings: SettingsDep,
    audit: AuditDep,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> AlertReceipt:
    """Change an alert of the caller's agency with a JSON Merge Patch (RFC 7386).

    Send `If-Match` with the ETag of the version you change (`"v3"`): without it 428, and 412
    if the alert has changed since. Only the reporting agency may change an alert (403 for
    others who can see it, 404 for those who cannot). Every change is a new version in the
    history; a patch that changes nothing answers the current version.
    """
    sent: dict[str, Any] = patch.model_dump(mode="json", exclude_unset=True)
    outcome = changes.update_alert(
        session,
        keyring,
        caller,
        alert_id,
        sent,
        audit,
        if_match=if_match,
        review_years=settings.alert_review_years,
        emerging=EmergingThresholds.of(settings),
    )
    response.headers["ETag"] = outcome.etag
    return outcome.receipt


@router.get(
    "/{alert_id}/history",
    response_model=AlertHistory,
    response_model_exclude_unset=True,
    dependencies=_NO_PARAMS,
    responses=_NOT_VISIBLE,
)
def alert_history(
    alert_id: AlertId,
    caller: AlertsRead,
    session: SessionDep,
    audit: AuditDep,
    purpose: PurposeHeader = None,
) -> AlertHistory:
    """Every version of an alert, oldest first: when, which agency, which fields changed.

    Routing facts show their old and new values; sensitive field groups only their names. The
    acting officer is shown to callers who may see the alert's contact group.
    """
    return service.alert_history(session, caller, alert_id, audit, purpose=purpose)


@router.get(
    "/{alert_id}/links",
    response_model=AlertLinks,
    dependencies=_NO_PARAMS,
    responses=responses(_NOT_VISIBLE, _SHREDDED),
)
def alert_links(
    alert_id: AlertId,
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    settings: SettingsDep,
    audit: AuditDep,
    purpose: Annotated[str, Depends(require_purpose)],
) -> AlertLinks:
    """Visible alerts that share a company (name or identifier), a document or container
    number, or a person (name and date of birth) with this one, and what they share. Needs
    `X-Purpose`, like a read: shared values are decrypted.

    The shared value is shown only if the caller may see its field group. A value held by more
    alerts than `EXCHANGE_LINKS_COMMON_THRESHOLD` is listed under `common` instead.
    """
    view = links.alert_links(
        session,
        keyring,
        caller,
        alert_id,
        audit,
        threshold=settings.links_common_threshold,
        purpose=purpose,
    )
    return view.links
