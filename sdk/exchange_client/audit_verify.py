"""Offline verification of an audit export, from the wire contract alone (docs/contract.md,
"The audit log"). It shares no code with the server: if the two disagree on a log, one has
drifted from the contract, and ``tests/sdk/test_audit_verify.py`` holds them to the same
verdict and the same first bad seq.

The rule: ``hash = SHA-256(prev_hash (32 raw bytes; zeros before seq 1) || canonical JSON of the
entry without prev_hash and hash)``, canonical JSON being RFC 8785, which for the values an entry
holds (strings, integers within ±(2**53 - 1), nulls, booleans, lists and objects with keys in the
Basic Multilingual Plane) is Python's ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``. A checkpoint ``{log_id, seq, hash, at, kid, signature}`` is an Ed25519
signature (base64url, no padding) over the canonical JSON of ``{log_id, seq, hash, at}``, by a key
of the log's JWKS whose ``kid`` is its RFC 7638 thumbprint. Ed25519 is checked through joserfc's
algorithm registry, so the SDK needs no cryptography library of its own.

Verdicts name the first bad seq with the contract's reasons: ``malformed entry``,
``malformed export: …``, ``gap: seq N missing``, ``seq out of order``, ``hash mismatch``,
``entry is not canonical JSON``, ``prev_hash does not link``, ``checkpoint key unknown``,
``checkpoint signature invalid``, ``checkpoint belongs to another log``,
``checkpoint does not match chain``, ``truncated before checkpoint at seq N``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry

__all__ = ["AuditVerdict", "load_keys", "verify_export", "verify_lines"]

_ZERO = bytes(32)
_MAX_INT = 2**53 - 1
_SIGNED_FIELDS = ("log_id", "seq", "hash", "at")


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """What the verification found; the fields of ``exchange-api audit verify``'s report."""

    ok: bool
    entries_checked: int
    checkpoints_checked: int
    first_bad_seq: int | None
    reason: str | None
    last_seq: int
    last_hash: str
    anchored_seq: int | None

    def document(self) -> dict[str, Any]:
        return asdict(self)


class _Bad(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


class _Malformed(ValueError):
    pass


def load_keys(jwks: Mapping[str, Any]) -> dict[str, OKPKey]:
    """The Ed25519 keys of a JWKS by ``kid``; a key whose ``kid`` is not its thumbprint is left
    out (a checkpoint naming it is then ``checkpoint key unknown``)."""
    keys: dict[str, OKPKey] = {}
    for jwk in jwks.get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        try:
            key = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]})
        except (JoseError, KeyError, ValueError, TypeError):
            continue
        if jwk.get("kid") == key.thumbprint():
            keys[str(jwk["kid"])] = key
    return keys


def _canonical(value: Mapping[str, Any]) -> bytes:
    _refuse_non_canonical(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refuse_non_canonical(value: object) -> None:
    if value is None or isinstance(value, str | bool):
        if isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError
        return
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise ValueError("integer out of range")
        return
    if isinstance(value, list):
        for item in value:
            _refuse_non_canonical(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if any(ord(char) > 0xFFFF for char in key):
                raise ValueError("key outside the BMP")
            _refuse_non_canonical(item)
        return
    raise ValueError(f"{type(value).__name__} has no canonical form here")


def _raw_hash(value: object) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64 or value != value.lower():
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _Malformed("duplicate key")
    return document


def _no_number(text: str) -> NoReturn:
    raise _Malformed(f"non-integer number {text[:20]!r}")


def _lines(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
            if not text:
                continue
            line = json.loads(
                text,
                object_pairs_hook=_unique_keys,
                parse_float=_no_number,
                parse_constant=_no_number,
            )
        except (ValueError, RecursionError) as exc:
            raise _Malformed(f"line {number}: {exc}") from None
        if not isinstance(line, dict):
            raise _Malformed(f"line {number}: not a JSON object")
        yield line


class _Walk:
    def __init__(
        self,
        checkpoints: Iterable[Mapping[str, Any]],
        keys: Mapping[str, OKPKey],
        log_id: str | None,
        from_seq: int,
        prev_hash: bytes,
    ) -> None:
        self.start = from_seq
        self.seq, self.hash = from_seq - 1, prev_hash
        self.checked, self.anchored = 0, None  # type: int, int | None
        self.keys, self.log_id = keys, log_id
        self.due: dict[int, list[Mapping[str, Any]]] = {}
        for checkpoint in checkpoints:
            self.due.setdefault(int(checkpoint["seq"]), []).append(checkpoint)

    def before_start(self) -> None:
        for seq in sorted(s for s in self.due if s <= self.seq):
            for checkpoint in self.due.pop(seq):
                self._authentic(checkpoint)
                if seq == self.seq:
                    self._matches(checkpoint, self.hash)

    def entry(self, line: Mapping[str, Any]) -> None:
        expected = self.seq + 1
        seq, prev, stated = (
            line.get("seq"),
            _raw_hash(line.get("prev_hash")),
            _raw_hash(line.get("hash")),
        )
        if type(seq) is not int or prev is None or stated is None:
            raise _Bad(expected, "malformed entry")
        if seq > expected:
            raise _Bad(expected, f"gap: seq {expected} missing")
        if seq < expected:
            raise _Bad(seq if seq >= self.start else expected, "seq out of order")
        body = {k: v for k, v in line.items() if k not in ("prev_hash", "hash")}
        try:
            digest = hashlib.sha256(prev + _canonical(body)).digest()
        except (ValueError, UnicodeEncodeError):
            raise _Bad(seq, "entry is not canonical JSON") from None
        if digest != stated:
            raise _Bad(seq, "hash mismatch")
        if prev != self.hash:
            raise _Bad(seq, "prev_hash does not link")
        self.seq, self.hash = seq, digest
        for checkpoint in self.due.pop(seq, []):
            self._authentic(checkpoint)
            self._matches(checkpoint, digest)

    def beyond_end(self) -> None:
        if self.due:
            seq = min(self.due)
            for checkpoint in self.due[seq]:
                self._authentic(checkpoint)
            raise _Bad(self.seq + 1, f"truncated before checkpoint at seq {seq}")

    def _authentic(self, checkpoint: Mapping[str, Any]) -> None:
        seq = int(checkpoint["seq"])
        key = self.keys.get(str(checkpoint.get("kid")))
        if key is None:
            raise _Bad(seq, "checkpoint key unknown")
        signed = _canonical({name: checkpoint[name] for name in _SIGNED_FIELDS})
        signature = str(checkpoint.get("signature", ""))
        try:
            raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            valid = JWSRegistry.algorithms["Ed25519"].verify(signed, raw, key)
        except (binascii.Error, ValueError, JoseError):
            valid = False
        if not valid:
            raise _Bad(seq, "checkpoint signature invalid")
        if self.log_id is not None and checkpoint.get("log_id") != self.log_id:
            raise _Bad(seq, "checkpoint belongs to another log")

    def _matches(self, checkpoint: Mapping[str, Any], chain_hash: bytes) -> None:
        if _raw_hash(checkpoint.get("hash")) != chain_hash:
            raise _Bad(int(checkpoint["seq"]), "checkpoint does not match chain")
        self.checked += 1
        self.anchored = max(int(checkpoint["seq"]), self.anchored or 0)

    def verdict(self, bad: _Bad | None) -> AuditVerdict:
        return AuditVerdict(
            ok=bad is None,
            entries_checked=self.seq - self.start + 1,
            checkpoints_checked=self.checked,
            first_bad_seq=None if bad is None else bad.seq,
            reason=None if bad is None else bad.reason,
            last_seq=self.seq,
            last_hash=self.hash.hex(),
            anchored_seq=self.anchored,
        )


def verify_lines(
    stream: IO[bytes],
    keys: Mapping[str, OKPKey],
    checkpoints: Iterable[Mapping[str, Any]] = (),
    *,
    from_seq: int = 1,
    log_id: str | None = None,
) -> AuditVerdict:
    """Verify an NDJSON export read from ``stream`` (constant memory).

    From seq 1 the first ``prev_hash`` must be 64 zeros; an export from a later seq takes its
    first ``prev_hash`` as given, so only a checkpoint at or after it anchors the rest.
    """
    lines = _lines(stream)
    start_hash = _ZERO
    pending: list[dict[str, Any]] = []
    walk = _Walk(checkpoints, keys, log_id, from_seq, start_hash)
    try:
        if from_seq > 1:
            try:
                first = next(lines, None)
            except _Malformed:
                first = None
            given = None if first is None else _raw_hash(first.get("prev_hash"))
            if first is None or given is None:
                return walk.verdict(_Bad(from_seq, "malformed entry"))
            walk.hash = given
            pending.append(first)
        walk.before_start()
        for line in pending:
            walk.entry(line)
        for line in lines:
            walk.entry(line)
        walk.beyond_end()
    except _Bad as bad:
        return walk.verdict(bad)
    except _Malformed as exc:
        return walk.verdict(_Bad(walk.seq + 1, f"malformed export: {exc}"))
    return walk.verdict(None)


def verify_export(
    export: Path,
    jwks: Mapping[str, Any],
    checkpoints: Iterable[Mapping[str, Any]] = (),
    *,
    from_seq: int = 1,
    log_id: str | None = None,
) -> AuditVerdict:
    """Verify an export file against the log's JWKS and any checkpoints kept."""
    with export.open("rb") as stream:
        return verify_lines(stream, load_keys(jwks), checkpoints, from_seq=from_seq, log_id=log_id)
