"""The ``exchange-api`` command: bootstrap, serve, administer, export.

Commands print exactly one JSON object on stdout, so that scripts can use them; every message for
people goes to stderr. A setting, key or input that cannot work ends the command with a one-line
reason and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from exchange_api.cli.agencies import add_agency_commands
from exchange_api.cli.audit import add_audit_commands
from exchange_api.cli.bootstrap import add_bootstrap_commands
from exchange_api.cli.keys import add_keys_commands
from exchange_api.cli.retention import add_retention_commands
from exchange_api.cli.support import CommandError, Handler, load_settings, say
from exchange_api.crypto import KeyFileError
from exchange_api.crypto.errors import TokenUnavailable

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exchange-api", description=__doc__.splitlines()[0])
    parser.set_defaults(handler=None, usage_of=parser)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    add_bootstrap_commands(commands)
    add_agency_commands(commands)
    add_keys_commands(commands)
    add_retention_commands(commands)
    add_audit_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler | None = args.handler
    if handler is None:  # a group without its subcommand, or nothing at all
        args.usage_of.print_help(sys.stderr)
        return 2
    try:
        return handler(args, load_settings())
    except (CommandError, KeyFileError, TokenUnavailable) as exc:
        say(f"exchange-api {_command_words(args)}: {exc}")
        return 2


def _command_words(args: argparse.Namespace) -> str:
    """``agencies add`` for ``exchange-api agencies add``; ``init`` for ``exchange-api init``."""
    subcommand = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {subcommand}" if subcommand else str(args.command)
