"""An audit export verifier written from docs/contract.md §6 alone, as an outside auditor would.

It deliberately shares no code with ``exchange_api``: if the service and this file disagree on
a chain, one of them has drifted from the wire contract. What it knows, all from §6:

- each export line is an entry plus ``prev_hash`` and ``hash``, lower-case hex;
- ``hash`` = SHA-256 over ``prev_hash`` (32 raw bytes, 32 zero bytes for seq 1) followed by the
  UTF-8 of ``json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``,
  where entry values are strings, integers, booleans, nulls, lists and objects only;
- seq runs 1, 2, … without gaps;
- a checkpoint ``{log_id, seq, hash, at, kid, signature}`` is an Ed25519 signature (base64url)
  over the canonical JSON of ``{log_id, seq, hash, at}``, by a key from a JWKS of OKP keys
  (``crv: Ed25519``, ``x``, ``kid``), and must match the chain's hash at its seq.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass(frozen=True)
class Verdict:
    ok: bool
    head_hash: str
    problem: str | None = None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _no_floats(text: str) -> Any:
    raise ValueError(f"§6 allows no non-integer numbers: {text}")


def verify_export(
    ndjson: bytes, checkpoints: list[dict[str, Any]], jwks: dict[str, Any]
) -> Verdict:
    keys = {
        jwk["kid"]: Ed25519PublicKey.from_public_bytes(_unb64url(jwk["x"]))
        for jwk in jwks["keys"]
        if jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    }
    pinned: dict[int, list[str]] = {}
    for checkpoint in checkpoints:
        key = keys.get(checkpoint["kid"])
        if key is None:
            return Verdict(False, "", f"checkpoint {checkpoint['seq']}: unknown kid")
        signed = _canonical({name: checkpoint[name] for name in ("log_id", "seq", "hash", "at")})
        try:
            key.verify(_unb64url(checkpoint["signature"]), signed)
        except (InvalidSignature, ValueError):
            return Verdict(False, "", f"checkpoint {checkpoint['seq']}: bad signature")
        pinned.setdefault(checkpoint["seq"], []).append(checkpoint["hash"])

    prev = bytes(32)
    if any(pinned_hash != prev.hex() for pinned_hash in pinned.pop(0, [])):
        return Verdict(False, prev.hex(), "checkpoint 0 is not the empty log")
    expected_seq = 1
    for raw in ndjson.splitlines():
        if not raw:
            continue
        try:
            line = json.loads(raw, parse_float=_no_floats)
            entry = {
                name: value for name, value in line.items() if name not in ("prev_hash", "hash")
            }
            if line["seq"] != expected_seq:
                return Verdict(False, prev.hex(), f"expected seq {expected_seq}")
            if line["prev_hash"] != prev.hex():
                return Verdict(False, prev.hex(), f"seq {expected_seq}: prev_hash")
            digest = hashlib.sha256(prev + _canonical(entry)).digest()
        except (ValueError, KeyError, AttributeError) as exc:
            return Verdict(False, prev.hex(), f"seq {expected_seq}: unreadable: {exc}")
        if line["hash"] != digest.hex():
            return Verdict(False, prev.hex(), f"seq {expected_seq}: hash")
        if any(pinned_hash != digest.hex() for pinned_hash in pinned.pop(expected_seq, [])):
            return Verdict(False, prev.hex(), f"seq {expected_seq}: checkpoint")
        prev = digest
        expected_seq += 1
    if pinned:
        return Verdict(False, prev.hex(), f"checkpoints past the end: {sorted(pinned)}")
    return Verdict(True, prev.hex())
