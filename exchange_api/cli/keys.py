"""The ``exchange-api keys`` commands: ``rotate`` the key-encryption key (or, with ``--signing``,
the access-token signing key), ``rewrap`` the alerts.

``keys rotate --signing`` writes token-signing key version N+1 and prints
``{"signing_key_version": N+1}``. Nothing else to do on this machine: every server worker signs
with it within seconds and keeps the previous key published until the tokens it signed have
expired (:mod:`exchange_api.crypto.signing_keys`). On several machines, copy the file to each at
once, keeping its modification time.

Rotation, in the order an operator follows (the README's "Rotating the KEK"):

1. ``keys rotate`` writes KEK version N+1 beside the others (it never replaces one) and prints
   ``{"kek_version": N+1}``. Every machine's keys directory needs that file before step 3.
   Servers keep wrapping new DEKs under the version that was newest when they started, until
   they restart; each opens DEKs wrapped under a newer version by reading its file when it
   first meets one, so nothing breaks in between.
2. Restart the servers (rolling), so that new alerts are wrapped under N+1.
3. ``keys rewrap`` moves every DEK wrapped under an older KEK to N+1, online, in batches; it
   prints what it did and what is left. Exit 1 names alerts whose DEK did not authenticate.
4. Once nothing is left under any other version, their files can be destroyed (backups of the
   database taken before the rewrap need them: destroying them makes those unreadable, which is
   the point after a compromise). ``rewrap`` says so only then: not while a data key failed, nor
   while some are wrapped under a version newer than this machine's keys hold.

Both first check the keys against the database (:mod:`exchange_api.key_check`) and refuse keys
that do not belong to it; ``rotate`` stores the new version's key-check value.

Both are audited (``admin.keys.rotate``, ``admin.keys.rewrap``) as the operator who ran them.
"""

from __future__ import annotations

import argparse

from exchange_api.alerts.rewrap import RewrapReport, rewrap_alerts
from exchange_api.audit.chain import AuditAction
from exchange_api.cli.support import (
    Commands,
    add_group,
    check_keys_match,
    database,
    emit,
    operator_recorder,
    say,
)
from exchange_api.config import Settings
from exchange_api.crypto import add_kek_version, load_key_material
from exchange_api.crypto.keyfiles import add_token_signing_version
from exchange_api.crypto.providers import open_hsm_keyring, open_keyring

__all__ = ["add_keys_commands"]


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    keys = load_key_material(settings.keys_dir)  # refuse to rotate keys that do not load
    if args.signing:
        return _rotate_signing_key(settings)
    if settings.keyring == "pkcs11":
        # In the token, numbered after every file KEK: see crypto/pkcs11_keyring.py.
        version = open_hsm_keyring(settings, keys).add_kek_version(after=max(keys.keks))
        where = f"created in the PKCS#11 token {settings.pkcs11_token_label!r}:"
    else:
        version = add_kek_version(settings.keys_dir)
        where = "written. Copy it to every machine's keys directory,"
    recorder = operator_recorder(settings)  # loads the new set: a bad key file fails here
    with (
        database(
            settings,
            refused=f"KEK version {version} was written, but its audit record was not",
            advice="is the database initialised?",
        ) as session_factory,
        session_factory.begin() as session,
    ):
        check_keys_match(session, settings, load_key_material(settings.keys_dir))
        recorder.record(session, AuditAction.ADMIN_KEYS_ROTATE, resource_ids=[f"kek:{version}"])
    say(
        f"KEK version {version} {where} restart the servers (new alerts are then wrapped "
        "under it), then run `exchange-api keys rewrap`."
    )
    emit({"kek_version": version})
    return 0


def _rotate_signing_key(settings: Settings) -> int:
    version = add_token_signing_version(settings.keys_dir)
    recorder = operator_recorder(settings)  # loads the new set: a bad key file fails here
    with (
        database(
            settings,
            refused=f"signing key version {version} was written, but its audit record was not",
            advice="is the database initialised?",
        ) as session_factory,
        session_factory.begin() as session,
    ):
        recorder.record(
            session, AuditAction.ADMIN_KEYS_ROTATE, resource_ids=[f"token-signing:{version}"]
        )
    say(
        f"token-signing key version {version} written. Servers sign with it within seconds and "
        "publish the previous key until its tokens have expired; on several machines, copy it "
        "to each now, keeping its time (cp -p)."
    )
    emit({"signing_key_version": version})
    return 0


def cmd_keys_rewrap(args: argparse.Namespace, settings: Settings) -> int:
    keys = load_key_material(settings.keys_dir)
    recorder = operator_recorder(settings, keys)
    with database(
        settings,
        refused="the database refused the rewrap",
        advice="batches already done stay done; run it again",
    ) as session_factory:
        with session_factory.begin() as session:
            check_keys_match(session, settings, keys)
        report = rewrap_alerts(
            session_factory,
            open_keyring(settings, keys),
            record=recorder.batches(AuditAction.ADMIN_KEYS_REWRAP),
            batch_size=args.batch_size,
        )
    _say_outcome(report)
    emit(
        {
            "kek_version": report.kek_version,
            "rewrapped": report.rewrapped,
            "failed": report.failed,
            "remaining": {str(version): count for version, count in report.remaining.items()},
        }
    )
    return 1 if report.failed else 0


def _say_outcome(report: RewrapReport) -> None:
    say(f"re-wrapped {report.rewrapped} data keys under KEK version {report.kek_version}")
    if report.failed:
        say(
            f"{len(report.failed)} wrapped data keys did not authenticate and were left as they "
            "were (their alert ids are in the report): restore them from a backup"
        )
    older = {v: n for v, n in report.remaining.items() if v < report.kek_version}
    newer = {v: n for v, n in report.remaining.items() if v > report.kek_version}
    if older:
        say(
            f"left under older KEKs: {_counts(older)} (those that failed, and any that servers "
            "started before the rotation created meanwhile: restart them and run rewrap again)"
        )
    if newer:
        say(
            f"wrapped under KEK versions newer than this machine's newest ({report.kek_version}): "
            f"{_counts(newer)}; copy their files here and run rewrap again"
        )
    if report.remaining:
        say("no KEK file can be destroyed yet: data keys are still wrapped under other versions")
    else:
        say(
            f"every data key is wrapped under KEK version {report.kek_version}: the older "
            "versions' files can be destroyed once no backup needs them"
        )


def _counts(versions: dict[int, int]) -> str:
    return ", ".join(f"{count} under version {version}" for version, count in versions.items())


def _batch_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError("must be an integer from 1 to 10000")
    return int(text)


def add_keys_commands(commands: Commands) -> None:
    """Add ``keys rotate`` and ``keys rewrap`` to the ``exchange-api`` parser."""
    keys = add_group(
        commands, "keys", help="rotate the key-encryption or token-signing key, re-wrap data keys"
    )
    rotate = keys.add_parser("rotate", help="write a new KEK version (or signing key version)")
    rotate.add_argument(
        "--signing",
        action="store_true",
        help="rotate the access-token signing key instead: servers switch to it by themselves",
    )
    rotate.set_defaults(handler=cmd_keys_rotate)
    rewrap = keys.add_parser(
        "rewrap", help="move every alert's data key under the newest KEK, online, in batches"
    )
    rewrap.add_argument(
        "--batch-size",
        type=_batch_size,
        default=500,
        help="alerts per transaction, 1 to 10000 (default: %(default)s)",
    )
    rewrap.set_defaults(handler=cmd_keys_rewrap)
