"""The ``exchange-api`` command: bootstrap, serve, export.

Commands that create something print exactly one JSON object on stdout, so that scripts can use
them; every message for people goes to stderr. A setting or key that cannot work ends the command
with a one-line reason and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit.appender import AuditLog
from exchange_api.audit.operator import OperatorRecorder
from exchange_api.config import Settings
from exchange_api.crypto import KeyFileError, KeyMaterial, ensure_keys, load_key_material
from exchange_api.db import (
    create_db_engine,
    current_revision,
    head_revision,
    make_session_factory,
    migrate_to_head,
)
from exchange_api.errors import ProblemError
from exchange_api.exports import render_openapi, render_schemas
from exchange_api.models.agencies import AgencyKind

__all__ = ["CommandError", "database", "emit", "main", "operator_recorder", "say"]

Handler = Callable[[argparse.Namespace, Settings], int]
ModelT = TypeVar("ModelT", bound=BaseModel)


class CommandError(Exception):
    """A failure the user can fix; its message is printed as one line."""


def emit(document: dict[str, Any]) -> None:
    """Print the command's one JSON result on stdout."""
    sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")


def say(message: str) -> None:
    print(message, file=sys.stderr)


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(f"{error['msg']}" for error in exc.errors())
        raise CommandError(f"invalid settings: {reasons}") from None


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    created = ensure_keys(settings.keys_dir)
    for path in created:
        say(f"created key {path}")
    migrate_to_head(settings.database_url)
    result: dict[str, Any] = {
        "keys_created": [str(path) for path in created],
        "schema": head_revision(settings.database_url),
    }
    if args.demo:
        from exchange_api.demo import demo_instructions, seed_demo

        result["demo"] = seed_demo(settings)
        say(demo_instructions(settings))
    emit(result)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from exchange_api.http_protocol import NoDelayH11Protocol

    load_key_material(settings.keys_dir)
    engine = create_db_engine(settings)
    try:
        revision = current_revision(engine)
    except Exception as exc:
        raise CommandError(f"cannot reach the database: {type(exc).__name__}") from None
    finally:
        engine.dispose()
    head = head_revision(settings.database_url)
    if revision != head:
        raise CommandError(
            f"database schema is at {revision or 'nothing'}, not {head}: run `exchange-api init`"
        )
    say(f"serving on http://{args.host}:{args.port} with {args.workers} worker(s)")
    uvicorn.run(
        "exchange_api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        http=NoDelayH11Protocol,
    )
    return 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    say(f"wrote {path}")


def cmd_openapi(args: argparse.Namespace, _settings: Settings) -> int:
    path = Path(args.out) / "openapi.json"
    _write(path, render_openapi())
    emit({"written": [str(path)]})
    return 0


def cmd_schemas(args: argparse.Namespace, _settings: Settings) -> int:
    out = Path(args.out)
    written = []
    for name, text in render_schemas().items():
        _write(out / name, text)
        written.append(str(out / name))
    emit({"written": written})
    return 0


@contextmanager
def database(settings: Settings, *, refused: str, advice: str) -> Iterator[sessionmaker[Session]]:
    """The configured database for one command. A database error ends the command with one
    line, ``"<refused> (<error type>): <advice>"``: the type only, never the error's text."""
    engine = create_db_engine(settings)
    try:
        yield make_session_factory(engine)
    except SQLAlchemyError as exc:
        raise CommandError(f"{refused} ({type(exc).__name__}): {advice}") from None
    finally:
        engine.dispose()


@contextmanager
def _transaction(settings: Settings) -> Iterator[Session]:
    """One committed transaction; a refusal of the service or the database becomes one line."""
    with database(
        settings,
        refused="the database refused the change",
        advice="is it initialised (`exchange-api init`)?",
    ) as session_factory:
        try:
            with session_factory.begin() as session:
                yield session
        except ProblemError as exc:
            raise CommandError(exc.detail) from None


def _validated(model: type[ModelT], **fields: Any) -> ModelT:
    try:
        return model(**fields)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise CommandError(f"invalid {model.__name__}: {reasons}") from None


def operator_recorder(settings: Settings, keys: KeyMaterial | None = None) -> OperatorRecorder:
    """The audit recorder of the changes a command makes (commands are audited like the API)."""
    keys = keys if keys is not None else load_key_material(settings.keys_dir)
    return OperatorRecorder(AuditLog.from_settings(settings, keys))


def cmd_agencies_add(args: argparse.Namespace, settings: Settings) -> int:
    from exchange_api.agencies import service
    from exchange_api.agencies.schemas import AgencyCreate

    data = _validated(AgencyCreate, name=args.name, country=args.country, kind=args.kind)
    recorder = operator_recorder(settings)
    with _transaction(settings) as session:
        audit = recorder.for_session(session)
        agency = service.register_agency(session, data, audit)
        audit.flush()
        result = {"id": str(agency.id), "name": agency.name, "country": agency.country}
    say(f"registered agency {data.name} ({data.kind})")
    emit({**result, "kind": data.kind.value})
    return 0


def cmd_clients_add(args: argparse.Namespace, settings: Settings) -> int:
    from exchange_api.agencies import service
    from exchange_api.agencies.schemas import ClientCreate

    try:
        agency_id = uuid.UUID(args.agency)
    except ValueError:
        raise CommandError("--agency must be an agency id (a UUID)") from None
    jwks: Any = None
    if args.jwks is not None:
        try:
            jwks = json.loads(Path(args.jwks).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read a JWKS from {args.jwks}: {exc}") from None
    recorder = operator_recorder(settings)
    with _transaction(settings) as session:
        agency = service.get_agency(session, agency_id)
        data = _validated(
            ClientCreate,
            agency_id=agency.id,
            name=args.name or f"{agency.name} system",
            scopes=args.scopes.split(),
            token_endpoint_auth_method="client_secret_basic" if args.secret else "private_key_jwt",
            jwks=jwks,
        )
        audit = recorder.for_session(session)
        registered = service.register_client(
            session, data, audit, secrets_allowed=settings.allow_client_secrets
        )
        audit.flush()
        result = {"client_id": registered.client.client_id, "scopes": list(data.scopes)}
    if registered.secret is not None:
        say("the client secret is shown once, here: only its hash is kept")
        result["client_secret"] = registered.secret
    emit(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exchange-api", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create missing keys and migrate the database")
    init.add_argument("--demo", action="store_true", help="also register demo agencies and data")
    init.set_defaults(handler=cmd_init)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    openapi = commands.add_parser("openapi", help="write openapi/openapi.json")
    openapi.add_argument("--out", default="openapi")
    openapi.set_defaults(handler=cmd_openapi)

    schemas = commands.add_parser("schemas", help="write the exchange format's JSON Schemas")
    schemas.add_argument("--out", default="schemas")
    schemas.set_defaults(handler=cmd_schemas)

    agencies = commands.add_parser("agencies", help="register member agencies")
    agencies_commands = agencies.add_subparsers(dest="agencies_command", required=True)
    agencies_add = agencies_commands.add_parser("add", help="register an agency")
    agencies_add.add_argument("--name", required=True)
    agencies_add.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. NL")
    agencies_add.add_argument("--kind", required=True, choices=[kind.value for kind in AgencyKind])
    agencies_add.set_defaults(handler=cmd_agencies_add)

    clients = commands.add_parser("clients", help="register agencies' client systems")
    clients_commands = clients.add_subparsers(dest="clients_command", required=True)
    clients_add = clients_commands.add_parser("add", help="register a client of an agency")
    clients_add.add_argument("--agency", required=True, help="the agency's id")
    clients_add.add_argument("--scopes", required=True, help='e.g. "alerts:read alerts:write"')
    clients_add.add_argument("--name", help="default: '<agency name> system'")
    method = clients_add.add_mutually_exclusive_group(required=True)
    method.add_argument("--jwks", metavar="FILE", help="public keys (private_key_jwt)")
    method.add_argument(
        "--secret", action="store_true", help="generate a secret (client_secret_basic, dev only)"
    )
    clients_add.set_defaults(handler=cmd_clients_add)

    # They use emit, say and CommandError from here.
    from exchange_api.alerts.commands import add_retention_commands
    from exchange_api.audit.commands import add_audit_commands
    from exchange_api.key_commands import add_keys_commands

    add_keys_commands(commands)
    add_retention_commands(commands)
    add_audit_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, _load_settings())
    except (CommandError, KeyFileError) as exc:
        say(f"exchange-api {args.command}: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
