"""Key material on disk: create it once, never overwrite it, refuse it when others can read it.

Layout of the keys directory (``EXCHANGE_KEYS_DIR``)::

    token-signing.pem       EC P-256 private key (PKCS8 PEM): signs access tokens (ES256);
                            version 1 of the token-signing key
    token-signing/0002.pem  later token-signing key versions (``keys rotate --signing``); the
                            file's modification time is when that version took over
    audit-signing.pem       Ed25519 private key (PKCS8 PEM): signs audit checkpoints
    kek/0001.key, 0002.key  key-encryption keys, 32 random bytes each; the number is the version
    blind-index-root.key    32 random bytes; per-field blind-index keys are derived from it
    demo/                   demo clients' keys (not handled here)

Why the file handling looks the way it does:

- A key file is written to a private temporary file (``O_CREAT|O_EXCL``, mode 0600), flushed to
  disk, then *hard-linked* to its final name. ``link`` fails if the name exists, so an existing key
  is never overwritten (two processes racing to initialise agree on one key), and the final name
  only ever points at a complete file: a crash leaves at worst a stray ``.*.tmp`` file, never half
  a key under a name the loader reads.
- The loader opens the file first and checks the mode of what it opened (``fstat``), so the check
  and the read concern the same file. Any permission bit for group or others is refused: these
  keys decrypt every alert and sign every token.
- Every failure is a :class:`KeyFileError` whose message is one line naming the file and the reason,
  so that start-up fails with something an operator can act on, not a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = [
    "AUDIT_SIGNING_KEY_FILE",
    "BLIND_INDEX_ROOT_FILE",
    "KEK_DIR",
    "SYMMETRIC_KEY_BYTES",
    "TOKEN_SIGNING_DIR",
    "TOKEN_SIGNING_KEY_FILE",
    "KeyFileError",
    "KeyMaterial",
    "TokenSigningKeyFile",
    "add_kek_version",
    "add_token_signing_version",
    "ensure_keys",
    "kek_path",
    "load_kek",
    "load_key_material",
    "load_token_signing_version",
    "read_private_file",
    "token_signing_path",
    "token_signing_versions",
]

TOKEN_SIGNING_KEY_FILE = "token-signing.pem"  # noqa: S105 (a file name)
TOKEN_SIGNING_DIR = "token-signing"  # noqa: S105 (a directory name)
AUDIT_SIGNING_KEY_FILE = "audit-signing.pem"
BLIND_INDEX_ROOT_FILE = "blind-index-root.key"
KEK_DIR = "kek"
SYMMETRIC_KEY_BYTES = 32

_DIR_MODE = 0o700
_FILE_MODE = 0o600
_VERSIONED_NAME = re.compile(r"^(\d{4,})\.(key|pem)$")
_ADD_VERSION_ATTEMPTS = 8
_MAX_KEY_FILE_BYTES = 16 * 1024


class KeyFileError(Exception):
    """A key file is missing, exposed, malformed or of the wrong type.

    ``str()`` is one line: ``key file <path>: <reason>``.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"key file {_one_line(str(path))}: {_one_line(reason)}")


def _one_line(text: str) -> str:
    """Escape anything that could break the message over lines (a path may hold a newline)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


@dataclass(frozen=True, repr=False, eq=False)
class KeyMaterial:
    """Every key the service holds, loaded and checked. Its repr shows versions, never secrets."""

    token_signing_key: ec.EllipticCurvePrivateKey
    audit_signing_key: ed25519.Ed25519PrivateKey
    keks: Mapping[int, bytes]
    blind_index_root: bytes

    def __post_init__(self) -> None:
        if not self.keks:
            raise ValueError("at least one key-encryption key is required")
        if any(len(kek) != SYMMETRIC_KEY_BYTES for kek in self.keks.values()):
            raise ValueError(f"key-encryption keys must be {SYMMETRIC_KEY_BYTES} bytes")
        if len(self.blind_index_root) != SYMMETRIC_KEY_BYTES:
            raise ValueError(f"the blind-index root key must be {SYMMETRIC_KEY_BYTES} bytes")
        # Frozen means the caller cannot swap a KEK under a running keyring either.
        object.__setattr__(self, "keks", MappingProxyType(dict(self.keks)))

    @property
    def current_kek_version(self) -> int:
        """The newest KEK version: new DEKs are wrapped under it."""
        return max(self.keks)

    def __repr__(self) -> str:
        return f"KeyMaterial(kek_versions={sorted(self.keks)}, secrets=<redacted>)"


# --- creating key files ---------------------------------------------------------------------


def _new_ec_p256_pem() -> bytes:
    return _pkcs8_pem(ec.generate_private_key(ec.SECP256R1()))


def _new_ed25519_pem() -> bytes:
    return _pkcs8_pem(ed25519.Ed25519PrivateKey.generate())


def _new_symmetric_key() -> bytes:
    return secrets.token_bytes(SYMMETRIC_KEY_BYTES)


def _pkcs8_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


_TOP_LEVEL_KEYS: dict[str, Callable[[], bytes]] = {
    TOKEN_SIGNING_KEY_FILE: _new_ec_p256_pem,
    AUDIT_SIGNING_KEY_FILE: _new_ed25519_pem,
    BLIND_INDEX_ROOT_FILE: _new_symmetric_key,
}


def kek_path(keys_dir: Path, version: int) -> Path:
    """Where KEK ``version`` lives: ``kek/0001.key`` for version 1."""
    if version < 1:
        raise ValueError("KEK versions start at 1")
    return keys_dir / KEK_DIR / f"{version:04d}.key"


def _make_private_dir(path: Path) -> None:
    """Create ``path`` if absent and make it mode 0700 (a checked-out ``keys/`` arrives 0755)."""
    try:
        path.mkdir(mode=_DIR_MODE, parents=True)
    except FileExistsError:
        if not path.is_dir():
            raise KeyFileError(path, "exists but is not a directory") from None
    os.chmod(path, _DIR_MODE)  # mkdir's mode is filtered by the umask


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` only if ``path`` does not exist; True if this call created it.

    See the module docstring: exclusive temporary file, fsync, then ``link`` (which refuses to
    replace an existing name) — never a rename, which would overwrite.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _FILE_MODE)
    try:
        try:
            os.fchmod(fd, _FILE_MODE)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def ensure_keys(keys_dir: Path) -> list[Path]:
    """Create ``keys_dir`` and every missing key file; return the files this call created.

    Idempotent: existing keys are never touched (nor checked — :func:`load_key_material` does
    that). A first KEK (version 1) is created only when the ``kek`` directory holds none.
    """
    _make_private_dir(keys_dir)
    _make_private_dir(keys_dir / KEK_DIR)
    created: list[Path] = []
    for name, generate in _TOP_LEVEL_KEYS.items():
        path = keys_dir / name
        if not path.exists() and _write_new_file(path, generate()):
            created.append(path)
    if not _kek_versions(keys_dir):
        path = kek_path(keys_dir, 1)
        if _write_new_file(path, _new_symmetric_key()):
            created.append(path)
    return created


def add_kek_version(keys_dir: Path) -> int:
    """Write the next ``kek/NNNN.key`` and return its version (``exchange-api keys rotate``).

    Old KEKs stay: DEKs wrapped under them remain readable until ``keys rewrap`` moves them on.
    """
    _make_private_dir(keys_dir / KEK_DIR)
    return _claim_next_version(
        keys_dir / KEK_DIR,
        lambda: _kek_versions(keys_dir),
        lambda version: kek_path(keys_dir, version),
        _new_symmetric_key,
    )


def add_token_signing_version(keys_dir: Path) -> int:
    """Write the next ``token-signing/NNNN.pem`` and return its version
    (``exchange-api keys rotate --signing``). Servers switch to it by themselves; older versions
    stay published while tokens they signed may still be valid
    (:mod:`exchange_api.crypto.signing_keys`)."""
    _make_private_dir(keys_dir / TOKEN_SIGNING_DIR)
    return _claim_next_version(
        keys_dir / TOKEN_SIGNING_DIR,
        lambda: token_signing_versions(keys_dir),
        lambda version: token_signing_path(keys_dir, version),
        _new_ec_p256_pem,
    )


def _claim_next_version(
    directory: Path,
    versions: Callable[[], list[int]],
    path_of: Callable[[int], Path],
    generate: Callable[[], bytes],
) -> int:
    for _attempt in range(_ADD_VERSION_ATTEMPTS):
        version = max(versions(), default=0) + 1
        if _write_new_file(path_of(version), generate()):
            return version
        # Another process took this version in the meantime: take the next one.
    raise KeyFileError(directory, "could not claim a new key version (concurrent rotation?)")


def token_signing_path(keys_dir: Path, version: int) -> Path:
    """Version 1 is ``token-signing.pem`` (as ``init`` always wrote it); later ones
    ``token-signing/NNNN.pem``."""
    if version < 1:
        raise ValueError("token-signing key versions start at 1")
    if version == 1:
        return keys_dir / TOKEN_SIGNING_KEY_FILE
    return keys_dir / TOKEN_SIGNING_DIR / f"{version:04d}.pem"


def token_signing_versions(keys_dir: Path) -> list[int]:
    """The token-signing key versions present, ascending."""
    found = [1] if (keys_dir / TOKEN_SIGNING_KEY_FILE).exists() else []
    return found + [v for v in _versions_in(keys_dir / TOKEN_SIGNING_DIR, "pem") if v > 1]


def _kek_versions(keys_dir: Path) -> list[int]:
    """The KEK versions present, ascending."""
    return _versions_in(keys_dir / KEK_DIR, "key")


def _versions_in(directory: Path, extension: str) -> list[int]:
    """The versions named ``NNNN.<extension>`` in ``directory``, ascending. Other names
    (temporary files, notes) are ignored."""
    try:
        names = set(os.listdir(directory))
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise KeyFileError(directory, "is not a directory") from None
    versions = {
        int(m.group(1))
        for name in names
        if (m := _VERSIONED_NAME.match(name)) and m.group(2) == extension
    }
    # Only canonical names count, so "00001.key" cannot shadow "0001.key" as a second version 1.
    return sorted(v for v in versions if v >= 1 and f"{v:04d}.{extension}" in names)


# --- loading key files ----------------------------------------------------------------------


def read_private_file(path: Path) -> bytes:
    """Read a key file, refusing it unless it is a regular file only its owner can read."""
    try:
        # O_NONBLOCK: a FIFO planted under a key's name must not hang start-up (refused below).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise KeyFileError(path, "missing (run `exchange-api init` to create keys)") from None
    except PermissionError:
        raise KeyFileError(path, "not readable by this process") from None
    except OSError as exc:
        raise KeyFileError(path, f"cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(path, "not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            exposure = "readable by" if mode & 0o044 else "accessible to"
            raise KeyFileError(
                path, f"{exposure} group or others (mode {mode:04o}); run `chmod 600` on it"
            )
        if info.st_size > _MAX_KEY_FILE_BYTES:
            raise KeyFileError(path, f"malformed: larger than {_MAX_KEY_FILE_BYTES} bytes")
        return handle.read(_MAX_KEY_FILE_BYTES + 1)


def _load_symmetric_key(path: Path) -> bytes:
    key = read_private_file(path)
    if len(key) != SYMMETRIC_KEY_BYTES:
        raise KeyFileError(
            path, f"malformed: expected {SYMMETRIC_KEY_BYTES} bytes, found {len(key)}"
        )
    return key


def _load_pem_private_key(path: Path) -> PrivateKeyTypes:
    pem = read_private_file(path)
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The library's message may quote the input; ours never does.
        raise KeyFileError(path, "malformed: not an unencrypted PKCS8 PEM private key") from None


def _describe(key: PrivateKeyTypes) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"an EC {key.curve.name} private key"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "an Ed25519 private key"
    if isinstance(key, rsa.RSAPrivateKey):
        return "an RSA private key"
    return f"a {type(key).__name__}"


def _load_token_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = _load_pem_private_key(path)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise KeyFileError(
        path,
        f"wrong key type: expected an EC P-256 (secp256r1) private key, found {_describe(key)}",
    )


def _load_audit_signing_key(path: Path) -> ed25519.Ed25519PrivateKey:
    key = _load_pem_private_key(path)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise KeyFileError(
        path, f"wrong key type: expected an Ed25519 private key, found {_describe(key)}"
    )


@dataclass(frozen=True, repr=False, eq=False)
class TokenSigningKeyFile:
    """One version of the token-signing key; ``written_at`` (POSIX seconds) is its file's
    modification time: when it was written, so when servers start signing with it."""

    version: int
    key: ec.EllipticCurvePrivateKey
    written_at: float

    def __repr__(self) -> str:
        return f"TokenSigningKeyFile(version={self.version}, key=<redacted>)"


def load_token_signing_version(keys_dir: Path, version: int) -> TokenSigningKeyFile:
    """Token-signing key ``version``, checked like every key file."""
    path = token_signing_path(keys_dir, version)
    key = _load_token_signing_key(path)
    return TokenSigningKeyFile(version=version, key=key, written_at=path.stat().st_mtime)


def load_kek(keys_dir: Path, version: int) -> bytes:
    """KEK ``version``, checked like every key file (:class:`KeyFileError` if unusable)."""
    return _load_symmetric_key(kek_path(keys_dir, version))


def load_key_material(keys_dir: Path) -> KeyMaterial:
    """Load and check every key; raise :class:`KeyFileError` at the first problem. The
    token-signing key is the newest version."""
    token_signing_key = _load_token_signing_key(
        token_signing_path(keys_dir, max(token_signing_versions(keys_dir), default=1))
    )
    audit_signing_key = _load_audit_signing_key(keys_dir / AUDIT_SIGNING_KEY_FILE)
    blind_index_root = _load_symmetric_key(keys_dir / BLIND_INDEX_ROOT_FILE)
    versions = _kek_versions(keys_dir)
    if not versions:
        raise KeyFileError(
            keys_dir / KEK_DIR, "missing: no NNNN.key found (run `exchange-api init`)"
        )
    return KeyMaterial(
        token_signing_key=token_signing_key,
        audit_signing_key=audit_signing_key,
        keks={v: load_kek(keys_dir, v) for v in versions},
        blind_index_root=blind_index_root,
    )
