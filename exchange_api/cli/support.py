"""What every ``exchange-api`` command module uses: output, settings, the database, the audit
recorder, and the one way a command fails.

Each command module imports this one and its domain's services; this module imports no command
module, and neither does any domain package import the CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit.appender import AuditLog
from exchange_api.audit.operator import OperatorRecorder
from exchange_api.config import Settings
from exchange_api.crypto import KeyMaterial, load_key_material
from exchange_api.crypto.providers import open_keyring
from exchange_api.db import create_db_engine, make_session_factory
from exchange_api.errors import ProblemError
from exchange_api.key_check import KeyMismatch, check_keys

__all__ = [
    "CommandError",
    "Commands",
    "Handler",
    "add_group",
    "check_keys_match",
    "database",
    "emit",
    "load_settings",
    "operator_recorder",
    "say",
    "transaction",
    "validated",
]

Handler = Callable[[argparse.Namespace, Settings], int]
"""A command: its parsed arguments and the settings in, its exit status out."""
if TYPE_CHECKING:  # not subscriptable at run time
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Commands = argparse._SubParsersAction
ModelT = TypeVar("ModelT", bound=BaseModel)


class CommandError(Exception):
    """A failure the user can fix: the command prints ``exchange-api <command>: <message>`` as
    one line on stderr and exits 2."""


def emit(document: dict[str, Any]) -> None:
    """Print the command's one JSON result on stdout."""
    sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")


def say(message: str) -> None:
    """A message for people, on stderr."""
    print(message, file=sys.stderr)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(f"{error['msg']}" for error in exc.errors())
        raise CommandError(f"invalid settings: {reasons}") from None


def add_group(commands: Commands, name: str, *, help: str) -> Commands:
    """A command group (``agencies``, ``keys``, ...). Given without a subcommand, the command
    prints the group's help on stderr and exits 2 (see :func:`exchange_api.cli.main.main`)."""
    group = commands.add_parser(name, help=help, description=help)
    group.set_defaults(handler=None, usage_of=group)
    return group.add_subparsers(title="commands", metavar="COMMAND", dest=f"{name}_command")


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
def transaction(settings: Settings) -> Iterator[Session]:
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


def validated(model: type[ModelT], **fields: Any) -> ModelT:
    """``model(**fields)``, or one line naming each field that is wrong."""
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


def check_keys_match(session: Session, settings: Settings, keys: KeyMaterial) -> None:
    """The key check (:mod:`exchange_api.key_check`) in ``session``'s transaction, storing the
    check values the database lacks; a mismatch ends the command with its one line."""
    keyring = open_keyring(settings, keys)
    try:
        check_keys(session, keys, keyring, settings.keys_dir)
    except KeyMismatch as exc:
        raise CommandError(f"the keys do not match the database: {exc}") from None
