"""``exchange-api init``, ``serve``, ``openapi`` and ``schemas``: set up, run, export."""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.cli.support import (
    CommandError,
    Commands,
    check_keys_match,
    database,
    emit,
    say,
)
from exchange_api.config import Settings
from exchange_api.crypto import KeyFileError, KeyMaterial, ensure_keys, load_key_material
from exchange_api.db import create_db_engine, current_revision, head_revision, migrate_to_head
from exchange_api.exports import render_openapi, render_schemas
from exchange_api.key_check import bound_to_keys

__all__ = ["add_bootstrap_commands"]


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, create the keys a new database lacks, and bind the database to its keys.

    A database already bound to keys (:func:`~exchange_api.key_check.bound_to_keys`) never gets
    new ones: they would not open its data. A missing key file is then an error, not a cue."""
    migrate_to_head(settings.database_url)
    with _checked_database(settings) as session_factory:
        with session_factory.begin() as session:
            bound = bound_to_keys(session)
        if bound:
            created = []
            keys = _existing_keys(settings)
        else:
            created = ensure_keys(settings.keys_dir)
            for path in created:
                say(f"created key {path}")
            keys = load_key_material(settings.keys_dir)
        with session_factory.begin() as session:
            check_keys_match(session, settings, keys)
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


def _checked_database(settings: Settings) -> AbstractContextManager[sessionmaker[Session]]:
    return database(
        settings,
        refused="cannot check the keys against the database",
        advice="is it reachable and initialised (`exchange-api init`)?",
    )


def _refuse_demo_clients(session_factory: sessionmaker[Session]) -> None:
    from exchange_api.production import UnsafeForProduction, refuse_demo_clients

    try:
        refuse_demo_clients(session_factory)
    except UnsafeForProduction as exc:
        raise CommandError(f"refusing to serve in production: {exc}") from None


def _existing_keys(settings: Settings) -> KeyMaterial:
    try:
        return load_key_material(settings.keys_dir)
    except KeyFileError as exc:
        raise CommandError(
            f"{exc}. This database already holds data under its keys, and new keys would not "
            "open it: restore the keys directory it was created with (or start over with a new "
            "database)"
        ) from None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from exchange_api.http_protocol import NoDelayH11Protocol
    from exchange_api.logs import configure_logging
    from exchange_api.serving import serve

    keys = load_key_material(settings.keys_dir)
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
    with _checked_database(settings) as session_factory:
        if settings.is_production:  # an unsafe deployment is named before anything else
            _refuse_demo_clients(session_factory)
        with session_factory.begin() as session:
            check_keys_match(session, settings, keys)
    say(f"serving on http://{args.host}:{args.port} with {args.workers} worker(s)")
    # The supervisor's own lines (how workers listen, a worker died and was replaced) as JSON.
    configure_logging(settings.log_level)
    serve(
        "exchange_api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
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


def add_bootstrap_commands(commands: Commands) -> None:
    """Add ``init``, ``serve``, ``openapi`` and ``schemas`` to the ``exchange-api`` parser."""
    init = commands.add_parser(
        "init", help="migrate the database; create the keys a new database lacks"
    )
    init.add_argument("--demo", action="store_true", help="also register demo agencies and data")
    init.set_defaults(handler=cmd_init)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="TCP port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each with its own connections (default: %(default)s)",
    )
    serve.set_defaults(handler=cmd_serve)

    openapi = commands.add_parser("openapi", help="write openapi/openapi.json")
    openapi.add_argument(
        "--out", default="openapi", help="directory to write openapi.json in (default: %(default)s)"
    )
    openapi.set_defaults(handler=cmd_openapi)

    schemas = commands.add_parser("schemas", help="write the exchange format's JSON Schemas")
    schemas.add_argument(
        "--out", default="schemas", help="directory to write the schemas in (default: %(default)s)"
    )
    schemas.set_defaults(handler=cmd_schemas)
