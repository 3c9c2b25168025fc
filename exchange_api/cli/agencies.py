"""``exchange-api agencies`` and ``clients``: register, list, disable and enable without the admin
API. Each prints one JSON object (a list as ``{"items": [...]}``, shaped like the admin API's)
and is audited as the operator who ran it, like the admin API's calls."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import Any

from exchange_api.agencies import service
from exchange_api.agencies.authority import COMMAND_LINE
from exchange_api.agencies.schemas import AgencyCreate, ClientCreate, ClientRead
from exchange_api.cli.support import (
    CommandError,
    Commands,
    add_group,
    emit,
    operator_recorder,
    say,
    transaction,
    validated,
)
from exchange_api.config import Settings
from exchange_api.models.agencies import AgencyKind, Client

__all__ = ["add_agency_commands"]

_PAGE = 200


def _agency_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise CommandError("--agency must be an agency id (a UUID)") from None


def cmd_agencies_add(args: argparse.Namespace, settings: Settings) -> int:
    data = validated(AgencyCreate, name=args.name, country=args.country, kind=args.kind)
    recorder = operator_recorder(settings)
    with transaction(settings) as session:
        audit = recorder.for_session(session)
        agency = service.register_agency(session, data, audit)
        audit.flush()
        result = {"id": str(agency.id), "name": agency.name, "country": agency.country}
    say(f"registered agency {data.name} ({data.kind})")
    emit({**result, "kind": data.kind.value})
    return 0


def cmd_agencies_list(_args: argparse.Namespace, settings: Settings) -> int:
    recorder = operator_recorder(settings)
    items: list[dict[str, Any]] = []
    with transaction(settings) as session:
        audit = recorder.for_session(session)
        cursor: str | None = None
        while True:  # each page is read and recorded as the admin API's list is
            page = service.list_agencies(session, audit, cursor=cursor, limit=_PAGE)
            items += [agency.model_dump(mode="json") for agency in page.items]
            if (cursor := page.next_cursor) is None:
                break
        audit.flush()
    emit({"items": items})
    return 0


def cmd_clients_add(args: argparse.Namespace, settings: Settings) -> int:
    agency_id = _agency_id(args.agency)
    jwks: Any = None
    if args.jwks is not None:
        try:
            jwks = json.loads(Path(args.jwks).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read a JWKS from {args.jwks}: {exc}") from None
    recorder = operator_recorder(settings)
    with transaction(settings) as session:
        agency = service.get_agency(session, agency_id)
        data = validated(
            ClientCreate,
            agency_id=agency.id,
            name=args.name or f"{agency.name} system",
            scopes=args.scopes.split(),
            token_endpoint_auth_method="client_secret_basic" if args.secret else "private_key_jwt",
            jwks=jwks,
        )
        audit = recorder.for_session(session)
        registered = service.register_client(
            session, data, audit, COMMAND_LINE, secrets_allowed=settings.allow_client_secrets
        )
        audit.flush()
        result = {"client_id": registered.client.client_id, "scopes": list(data.scopes)}
    if registered.secret is not None:
        say("the client secret is shown once, here: only its hash is kept")
        result["client_secret"] = registered.secret
    emit(result)
    return 0


def cmd_clients_list(args: argparse.Namespace, settings: Settings) -> int:
    agency_id = _agency_id(args.agency) if args.agency is not None else None
    recorder = operator_recorder(settings)
    items: list[dict[str, Any]] = []
    with transaction(settings) as session:
        audit = recorder.for_session(session)
        cursor: str | None = None
        while True:
            page = service.list_clients(
                session, audit, COMMAND_LINE, agency_id=agency_id, cursor=cursor, limit=_PAGE
            )
            items += [client.model_dump(mode="json") for client in page.items]
            if (cursor := page.next_cursor) is None:
                break
        audit.flush()
    emit({"items": items})
    return 0


def _change_client(settings: Settings, client_id: str, *, enable: bool) -> dict[str, Any]:
    recorder = operator_recorder(settings)
    with transaction(settings) as session:
        audit = recorder.for_session(session)
        change = service.enable_client if enable else service.disable_client
        client: Client = change(session, client_id, audit, COMMAND_LINE)
        audit.flush()
        return ClientRead.of(client).model_dump(mode="json")


def cmd_clients_disable(args: argparse.Namespace, settings: Settings) -> int:
    emit(_change_client(settings, args.client_id, enable=False))
    say(f"client {args.client_id} is disabled: its tokens are refused from now on")
    return 0


def cmd_clients_enable(args: argparse.Namespace, settings: Settings) -> int:
    emit(_change_client(settings, args.client_id, enable=True))
    say(
        f"client {args.client_id} is enabled: it may ask for tokens again; those issued "
        "before it was disabled stay refused"
    )
    return 0


def add_agency_commands(commands: Commands) -> None:
    """Add the ``agencies`` and ``clients`` groups to the ``exchange-api`` parser."""
    agencies = add_group(commands, "agencies", help="register and list member agencies")
    add = agencies.add_parser("add", help="register an agency")
    add.add_argument("--name", required=True, help="the agency's name (unique)")
    add.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. NL")
    add.add_argument(
        "--kind",
        required=True,
        choices=[kind.value for kind in AgencyKind],
        help="what kind of agency it is",
    )
    add.set_defaults(handler=cmd_agencies_add)
    listing = agencies.add_parser("list", help="list every agency, oldest first")
    listing.set_defaults(handler=cmd_agencies_list)

    clients = add_group(
        commands, "clients", help="register, list, disable and enable agencies' client systems"
    )
    add = clients.add_parser("add", help="register a client of an agency")
    add.add_argument("--agency", required=True, help="the agency's id")
    add.add_argument(
        "--scopes",
        required=True,
        help='e.g. "alerts:read alerts:write"; "network:admin clients:admin" for the operator',
    )
    add.add_argument("--name", help="default: '<agency name> system'")
    method = add.add_mutually_exclusive_group(required=True)
    method.add_argument("--jwks", metavar="FILE", help="public keys (private_key_jwt)")
    method.add_argument(
        "--secret", action="store_true", help="generate a secret (client_secret_basic, dev only)"
    )
    add.set_defaults(handler=cmd_clients_add)
    listing = clients.add_parser("list", help="list the clients, by client id")
    listing.add_argument("--agency", metavar="ID", help="only this agency's clients")
    listing.set_defaults(handler=cmd_clients_list)
    disable = clients.add_parser(
        "disable", help="refuse the client's tokens from now on, and give it no new ones"
    )
    disable.add_argument("client_id", metavar="CLIENT_ID", help="the client's id")
    disable.set_defaults(handler=cmd_clients_disable)
    enable = clients.add_parser(
        "enable",
        help="let a disabled client get tokens again (those from before the disable stay refused)",
    )
    enable.add_argument("client_id", metavar="CLIENT_ID", help="the client's id")
    enable.set_defaults(handler=cmd_clients_enable)
