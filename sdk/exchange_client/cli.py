"""``exchange``: push alert files, search, read, follow events, write a CSV template, verify the
audit log.

Configured by flags or the environment: ``--url``/``EXCHANGE_URL``,
``--client-id``/``EXCHANGE_CLIENT_ID``, ``--key``/``EXCHANGE_KEY`` (the client's private key, a
PEM or JWK file), ``--officer``/``EXCHANGE_OFFICER``. Exit status: 0 done, 1 done but something
failed (a row refused, a log that does not verify), 2 could not run — with one line on stderr
saying why.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exchange_client.audit_verify import AuditVerdict, verify_export
from exchange_client.client import Client, settings_from_env
from exchange_client.errors import (
    ConfigurationError,
    ExchangeError,
    ProblemError,
    TokenRefused,
    Unreachable,
)
from exchange_client.push import errors_path, push_file
from exchange_client.rows import COLUMNS, template

__all__ = ["main"]

_SEARCH_FILTERS = {
    "substance": "CAS number (repeatable: any of them)",
    "origin": "country of origin",
    "transit": "transit country",
    "destination": "country of destination",
    "country": "country on any leg",
    "incident_type": "incident type (repeatable)",
    "status": "status (repeatable)",
    "reporting_agency": "agency id",
    "detected_after": "YYYY-MM-DD, inclusive",
    "detected_before": "YYYY-MM-DD, inclusive",
    "party": "company name or identifier, exact (needs --purpose)",
    "document": "document or container number, exact (needs --purpose)",
    "stage": "furthest penal-chain step of its follow-ups (repeatable)",
}
_REPEATABLE = {"substance", "incident_type", "status", "stage"}
_TABLE = ("id", "detected_on", "incident_type", "status", "substances", "route")


class _Fail(Exception):
    """Stop with exit status 2 and this one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exchange", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="the exchange's base URL (EXCHANGE_URL)")
    parser.add_argument("--client-id", help="this system's client id (EXCHANGE_CLIENT_ID)")
    parser.add_argument("--key", help="private key file, PEM or JWK (EXCHANGE_KEY)")
    parser.add_argument("--officer", help="act for this officer (EXCHANGE_OFFICER)")
    parser.add_argument("--no-dpop", action="store_true", help="ask for bearer tokens")
    commands = parser.add_subparsers(dest="command", required=True)

    push = commands.add_parser("push", help="send a CSV or NDJSON file of alerts")
    push.add_argument("file", type=Path)
    push.add_argument("--in-flight", type=int, default=4, help="batches sent at once (4)")

    columns = "\n".join(f"  {name:34} {text}" for name, text in COLUMNS.items())
    commands.add_parser(
        "template",
        help="write a CSV header and an example row",
        description="Write the alert CSV format's header and one example row to stdout. One row "
        "per alert; N numbers repeated groups from 1 (add substance_2_cas, party_2_name, … as "
        "needed); an empty cell leaves the field out.\n\ncolumns:\n" + columns,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    search = commands.add_parser("search", help="search alerts (routing facts)")
    for name, text in _SEARCH_FILTERS.items():
        action = "append" if name in _REPEATABLE else "store"
        search.add_argument("--" + name.replace("_", "-"), dest=name, action=action, help=text)
    search.add_argument(
        "--substance-name",
        help="a substance by name, as typed (the server matches it to the catalogue's names and "
        "synonyms, or to the same name reported by others)",
    )
    search.add_argument("--purpose", help="why you search (X-Purpose)")
    search.add_argument("--limit", type=int, help="stop after this many alerts")
    search.add_argument("--table", action="store_true", help="a table instead of JSON lines")

    get = commands.add_parser("get", help="read one alert")
    get.add_argument("id")
    get.add_argument("--purpose", required=True, help="why you read it (X-Purpose)")

    events = commands.add_parser(
        "events",
        help="the events you may see, as JSON lines",
        description="Print the events after --after (default: the oldest kept) as JSON lines, "
        "up to the newest; with --follow, go on printing each new one (the stream, resumed "
        "after a dropped connection) until interrupted. The last event id is written to "
        "stderr at the end: pass it as --after to resume.",
    )
    events.add_argument("--follow", action="store_true", help="wait for new events")
    events.add_argument("--after", help="an event id or cursor to start after")
    events.add_argument(
        "--type", dest="types", action="append", default=[], help="event type (repeatable)"
    )
    events.add_argument("--subscription", help="only the events one of your watch lists matched")

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="export the log and verify it offline (or verify a saved export)"
    )
    verify.add_argument("--export", type=Path, help="verify this saved export instead")
    verify.add_argument("--keys", type=Path, help="with --export: the JWKS of /v1/audit/keys")
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint kept from before (repeatable)",
    )
    verify.add_argument("--from-seq", type=int, default=1)
    verify.add_argument("--log-id", help="refuse checkpoints of another log")
    verify.add_argument("--keep", type=Path, help="write the export here")
    return parser


def _client(args: argparse.Namespace) -> Client:
    env = settings_from_env()
    url = args.url or env.get("url")
    client_id = args.client_id or env.get("client_id")
    key = args.key or env.get("key")
    missing = [n for n, v in (("--url", url), ("--client-id", client_id), ("--key", key)) if not v]
    if missing:
        raise _Fail(
            f"missing {', '.join(missing)} (or EXCHANGE_URL, EXCHANGE_CLIENT_ID, EXCHANGE_KEY)"
        )
    assert url
    assert client_id
    assert key
    return Client(
        url, client_id, key, officer=args.officer or env.get("officer"), dpop=not args.no_dpop
    )


def _push(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise _Fail(f"no such file: {args.file}")
    with _client(args) as client:
        report = push_file(
            client,
            args.file,
            in_flight=args.in_flight,
            progress=sys.stderr,
        )
    where = f"; see {errors_path(args.file)}" if report.failed else ""
    print(
        f"{report.rows} rows: {report.created} created, {report.skipped} sent before, "
        f"{len(report.failed)} failed{where}",
        file=sys.stderr,
    )
    return 0 if report.complete else 1


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(
            str(item.get("cas", item)) if isinstance(item, dict) else str(item) for item in value
        )
    if isinstance(value, dict):
        return ">".join(str(value[k]) for k in ("origin", "destination") if value.get(k))
    return str(value)


def _search(args: argparse.Namespace) -> int:
    filters = {name: getattr(args, name) for name in _SEARCH_FILTERS}
    with _client(args) as client:
        found = client.alerts.search(
            purpose=args.purpose, substance_name=args.substance_name, **filters
        )
        if args.table:
            print("\t".join(_TABLE))
        for count, alert in enumerate(found, start=1):
            if args.table:
                print("\t".join(_cell(alert.get(column, "")) for column in _TABLE))
            else:
                print(json.dumps(alert, ensure_ascii=False))
            if args.limit is not None and count >= args.limit:
                break
    return 0


def _events(args: argparse.Namespace) -> int:
    last = args.after
    with _client(args) as client:
        try:
            if args.follow:
                for event in client.events.stream(
                    args.after, types=args.types, subscription=args.subscription
                ):
                    print(json.dumps(event, ensure_ascii=False), flush=True)
                    last = event["id"]
            else:
                while True:
                    page = client.events.page(
                        last, types=args.types, subscription=args.subscription
                    )
                    for event in page["items"]:
                        print(json.dumps(event, ensure_ascii=False))
                    last = page["next_cursor"]
                    if not page["items"]:
                        break
        except KeyboardInterrupt:
            pass
    if last is not None:
        print(f"resume with --after {last}", file=sys.stderr)
    return 0


def _get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        print(json.dumps(client.alerts.get(args.id, purpose=args.purpose), ensure_ascii=False))
    return 0


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _Fail(f"cannot read {path}: {exc}") from None


def _audit_verify(args: argparse.Namespace) -> int:
    checkpoints: list[Any] = []
    for path in args.checkpoint:
        document = _read_json(path)
        checkpoints.extend(document if isinstance(document, list) else [document])
    if args.export is not None:
        if args.keys is None:
            raise _Fail("--export needs --keys (the JWKS of GET /v1/audit/keys)")
        if not args.export.is_file():
            raise _Fail(f"no such file: {args.export}")
        verdict = verify_export(
            args.export,
            _read_json(args.keys),
            checkpoints,
            from_seq=args.from_seq,
            log_id=args.log_id,
        )
    else:
        with _client(args) as client:
            verdict, _ = client.audit.verify(
                checkpoints=checkpoints, log_id=args.log_id, keep=args.keep
            )
    print(_summary(verdict), file=sys.stderr)
    print(json.dumps(verdict.document()))
    return 0 if verdict.ok else 1


def _summary(verdict: AuditVerdict) -> str:
    if not verdict.ok:
        return (
            f"AUDIT LOG INVALID: first bad entry is seq {verdict.first_bad_seq} "
            f"({verdict.reason}); {verdict.entries_checked} entries before it verified."
        )
    pinned = (
        "no checkpoint pins it"
        if verdict.anchored_seq is None
        else f"signed checkpoints pin it up to seq {verdict.anchored_seq}"
    )
    return (
        f"audit log OK: {verdict.entries_checked} entries up to seq {verdict.last_seq} and "
        f"{verdict.checkpoints_checked} checkpoint(s) verified; {pinned}."
    )


def _run(args: argparse.Namespace) -> int:
    if args.command == "template":
        sys.stdout.write(template())
        return 0
    handlers = {"push": _push, "search": _search, "get": _get, "events": _events}
    if args.command == "audit":
        return _audit_verify(args)
    return handlers[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except _Fail as exc:
        message = str(exc)
    except ConfigurationError as exc:
        message = str(exc)
    except TokenRefused as exc:
        message = f"the server refused this client: {exc.error} ({exc.description or exc.status})"
    except Unreachable as exc:
        message = f"cannot reach the server: {exc}"
    except ProblemError as exc:
        print(f"exchange: {exc}", file=sys.stderr)
        print(json.dumps(exc.problem, ensure_ascii=False))
        return 1
    except ExchangeError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        message = "interrupted"
    print(f"exchange: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
