"""The access-token signing keys of a keys directory, as they change under running servers.

``exchange-api keys rotate --signing`` writes version N+1 (:func:`add_token_signing_version`).
Nothing is restarted. Every worker of every server looks at the keys directory again at most
every :data:`LOOK_AGAIN_AFTER` seconds, when it signs or publishes, and at once (but no more
often) when it meets a token whose key it does not know — the way a worker opens DEKs wrapped
under a KEK newer than it knew (:class:`~exchange_api.crypto.keyring.LocalKeyring`). So:

- within ``LOOK_AGAIN_AFTER`` seconds of the rotation, every worker signs with version N+1;
- a token signed by N+1 verifies on every worker from the start (an unknown ``kid`` makes the
  worker look);
- version N stays *published* (in the JWKS, and accepted) for ``overlap`` seconds after N+1 was
  written — the access-token lifetime, plus the clock leeway, plus ``LOOK_AGAIN_AFTER`` for the
  workers that signed with N a little after the rotation. Then no token N signed can still be
  valid, and N is dropped. Older versions are dropped the same way.

"Written" is the file's modification time: on several machines, copy the new file to each at
once, keeping that time (``cp -p``, ``rsync -t``); until a machine has it, its tokens are refused
by the others once the overlap has passed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from exchange_api.crypto.keyfiles import (
    TokenSigningKeyFile,
    load_token_signing_version,
    token_signing_versions,
)

__all__ = ["LOOK_AGAIN_AFTER", "TokenSigningKeys"]

LOOK_AGAIN_AFTER = 10.0
"""Seconds between two looks at the keys directory for a new signing-key version."""


@dataclass(frozen=True, slots=True)
class _State:
    versions: tuple[TokenSigningKeyFile, ...]
    """Ascending by version; the last one signs."""
    looked_at: float


class TokenSigningKeys:
    """The token-signing key versions of ``keys_dir``: the one that signs, and those published.

    Thread-safe: a look at the directory replaces an immutable state under a lock, and readers
    take the state as it is.
    """

    def __init__(
        self,
        keys_dir: Path,
        *,
        overlap: float,
    ) -> None:
        self._keys_dir = keys_dir
        self._overlap = overlap
        self._lock = threading.Lock()
        self._state = self._load(())

    def __repr__(self) -> str:
        versions = [key.version for key in self._state.versions]
        return f"TokenSigningKeys(versions={versions}, secrets=<redacted>)"

    def _load(self, known: tuple[TokenSigningKeyFile, ...]) -> _State:
        """The state with every version on disk; those already known are not read again."""
        by_version = {key.version: key for key in known}
        versions = tuple(
            by_version.get(version) or load_token_signing_version(self._keys_dir, version)
            for version in token_signing_versions(self._keys_dir)
        )
        if not versions:
            # ensure_keys always writes version 1: only a removed file gets here.
            return _State(versions=known, looked_at=time.monotonic())
        return _State(versions=versions, looked_at=time.monotonic())

    def look_again(self, *, unless_within: float | None = None) -> None:
        """Read new versions from the keys directory, unless it was looked at within
        ``unless_within`` seconds (default :data:`LOOK_AGAIN_AFTER`)."""
        if unless_within is None:
            unless_within = LOOK_AGAIN_AFTER
        if time.monotonic() - self._state.looked_at < unless_within:
            return
        with self._lock:
            if time.monotonic() - self._state.looked_at < unless_within:
                return
            self._state = self._load(self._state.versions)

    @property
    def signing(self) -> TokenSigningKeyFile:
        """The version that signs new tokens: the newest (looked for every few seconds)."""
        self.look_again()
        return self._state.versions[-1]

    def published(self) -> list[TokenSigningKeyFile]:
        """The versions whose tokens may still be valid, newest first: the signing one, and
        each older one until ``overlap`` seconds after its successor was written."""
        self.look_again()
        versions = self._state.versions
        now = time.time()
        kept = [versions[-1]]
        for older, successor in zip(versions[-2::-1], versions[::-1], strict=False):
            if now >= successor.written_at + self._overlap:
                break
            kept.append(older)
        return kept
