"""The ``exchange-api audit`` commands: ``verify`` and ``checkpoint``.

``verify`` prints the verdict for people on stderr and the report as one JSON object on stdout;
it exits 0 when the log verifies, 1 when it does not (naming the first bad seq), and 2 when it
cannot run (unreadable files, bad settings).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit.appender import AuditLog
from exchange_api.audit.checkpoints import key_id
from exchange_api.audit.range_check import RangeReadError
from exchange_api.audit.sequencer import drain_intake
from exchange_api.audit.verification import (
    VerificationInputError,
    load_checkpoint_files,
    load_jwks_file,
    report_document,
    summary,
    verify_export_file,
    verify_stored_log,
)
from exchange_api.audit.verify import VerificationReport
from exchange_api.cli.support import CommandError, Commands, add_group, emit, say
from exchange_api.config import Settings
from exchange_api.crypto import load_key_material
from exchange_api.db import create_db_engine, make_session_factory

__all__ = ["add_audit_commands"]


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = _verify(args, settings)
    except VerificationInputError as exc:
        raise CommandError(str(exc)) from None
    say(summary(report))
    emit(report_document(report))
    return 0 if report.ok else 1


def _verify(args: argparse.Namespace, settings: Settings) -> VerificationReport:
    if args.export is None:
        return _verify_database(settings)
    if args.keys is None:
        raise CommandError("--export needs --keys (the JWKS of /v1/audit/keys)")
    return verify_export_file(
        Path(args.export),
        load_jwks_file(Path(args.keys)),
        load_checkpoint_files([Path(path) for path in args.checkpoint]),
        from_seq=args.from_seq,
        log_id=args.log_id,
    )


def _verify_database(settings: Settings) -> VerificationReport:
    """Verify the stored log with a process per available CPU (see :mod:`.verification`),
    after chaining what waits in the intake (on a read-only replica that fails: said, and the
    chain as stored is verified)."""
    keys = load_key_material(settings.keys_dir)
    public_key = keys.audit_signing_key.public_key()
    engine = create_db_engine(settings)
    try:
        _chain_intake(AuditLog.from_settings(settings, keys), make_session_factory(engine))
        return verify_stored_log(
            engine,
            {key_id(public_key): public_key},
            log_id=settings.audit_log,
            workers=len(os.sched_getaffinity(0)),
        )
    except SQLAlchemyError as exc:
        raise CommandError(f"cannot read the audit log: {type(exc).__name__}") from None
    except RangeReadError as exc:
        raise CommandError(str(exc)) from None
    finally:
        engine.dispose()


def _chain_intake(log: AuditLog, session_factory: sessionmaker[Session]) -> None:
    try:
        chained = drain_intake(log, session_factory)
    except SQLAlchemyError as exc:
        say(f"the intake could not be chained ({type(exc).__name__}); verifying the stored chain")
        return
    if chained:
        say(f"chained {chained} entries waiting in the intake")


def cmd_audit_checkpoint(_args: argparse.Namespace, settings: Settings) -> int:
    log = AuditLog.from_settings(settings, load_key_material(settings.keys_dir))
    engine = create_db_engine(settings)
    try:
        with make_session_factory(engine).begin() as session:
            checkpoint, created = log.checkpoint(session)
    except SQLAlchemyError as exc:
        raise CommandError(f"cannot write it: {type(exc).__name__}") from None
    finally:
        engine.dispose()
    say(f"{'signed' if created else 'already signed'}: checkpoint at seq {checkpoint.seq}")
    emit(dict(checkpoint.as_dict()))
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return int(text)


def add_audit_commands(commands: Commands) -> None:
    """Add ``audit verify`` and ``audit checkpoint`` to the ``exchange-api`` parser."""
    audit_commands = add_group(commands, "audit", help="verify the audit log, sign a checkpoint")

    verify = audit_commands.add_parser(
        "verify",
        help="check the whole chain and every checkpoint (database, or --export offline)",
    )
    verify.add_argument("--export", metavar="FILE", help="an NDJSON export (GET /v1/audit/export)")
    verify.add_argument("--keys", metavar="JWKS_FILE", help="the JWKS of GET /v1/audit/keys")
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        action="append",
        default=[],
        help="a checkpoint (or a list) saved from GET /v1/audit/checkpoints/latest; repeatable",
    )
    verify.add_argument(
        "--from-seq",
        type=_positive,
        default=1,
        help="the export's first seq (its from_seq); its first prev_hash is then taken as given",
    )
    verify.add_argument("--log-id", metavar="ID", help="refuse checkpoints of any other log id")
    verify.set_defaults(handler=cmd_audit_verify)

    checkpoint = audit_commands.add_parser("checkpoint", help="sign a checkpoint of the head now")
    checkpoint.set_defaults(handler=cmd_audit_checkpoint)
