"""The SDK's offline audit verification agrees with ``exchange-api audit verify`` on an export
taken from a live server, and both name the same first bad entry on tampered copies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchange_client import Client, verify_export
from exchange_client.rows import EXAMPLE
from tests.sdk.conftest import ServerFactory


def _edit(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[5]["actor"] = "someone-else"
    return lines


def _delete(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return lines[:4] + lines[5:]


def _swap(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[3], lines[4] = lines[4], lines[3]
    return lines


def _truncate(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return lines[:5]  # before the signed checkpoint


TAMPERINGS: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {
    "edit": _edit,
    "delete": _delete,
    "swap": _swap,
    "truncate": _truncate,
}


def test_sdk_and_server_verifiers_agree(exchange_server: ServerFactory, tmp_path: Path) -> None:
    live = exchange_server()
    customs = live.register("customs")
    auditor = live.register("regulatory", scopes="audit:read")
    with Client(live.url, customs.client_id, customs.key_path) as exchange:
        for n in range(3):
            exchange.alerts.create({**EXAMPLE, "reference": f"AUD-{n}"})
    export = tmp_path / "audit.ndjson"
    with Client(live.url, auditor.client_id, auditor.key_path) as client:
        checkpoint = client.audit.sign_checkpoint()
        verdict, used = client.audit.verify(keep=export)
        keys = client.audit.keys()
    assert verdict.ok, verdict
    assert verdict.anchored_seq == checkpoint["seq"]
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    (tmp_path / "checkpoints.json").write_text(json.dumps(used))

    def server_verdict(path: Path) -> dict[str, Any]:
        done = live.cli(
            "audit",
            "verify",
            "--export",
            str(path),
            "--keys",
            str(tmp_path / "keys.json"),
            "--checkpoint",
            str(tmp_path / "checkpoints.json"),
        )
        return dict(json.loads(done.stdout))

    ours = verify_export(export, keys, used).document()
    theirs = server_verdict(export)
    assert {k: theirs[k] for k in ours} == ours

    original = [json.loads(line) for line in export.read_text().splitlines()]
    assert len(original) > checkpoint["seq"] >= 6
    for name, tamper in TAMPERINGS.items():
        tampered = tmp_path / f"{name}.ndjson"
        tampered.write_text(
            "".join(json.dumps(line) + "\n" for line in tamper([dict(x) for x in original]))
        )
        ours = verify_export(tampered, keys, used).document()
        theirs = server_verdict(tampered)
        assert not ours["ok"], name
        assert (ours["first_bad_seq"], ours["reason"]) == (
            theirs["first_bad_seq"],
            theirs["reason"],
        ), name
        assert {k: theirs[k] for k in ours} == ours, name
