"""SoftHSM2 tokens for the PKCS#11 keyring tests: one configuration per test session, and a pool
of tokens made before the module is first loaded (SoftHSM2 reads its token directory once per
process), one fresh token per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
USER_PIN = "314159"
_POOL = 12


@dataclass(frozen=True)
class Token:
    label: str
    pin_file: Path

    def env(self) -> dict[str, str]:
        """The settings that select this token, as ``EXCHANGE_*`` variables."""
        return {
            "EXCHANGE_KEYRING": "pkcs11",
            "EXCHANGE_PKCS11_MODULE": str(SOFTHSM_MODULE),
            "EXCHANGE_PKCS11_TOKEN_LABEL": self.label,
            "EXCHANGE_PKCS11_PIN_FILE": str(self.pin_file),
        }


@pytest.fixture(scope="session")
def softhsm_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Labels of fresh SoftHSM2 tokens under a configuration of their own (``.ci/run``
    installs softhsm2)."""
    assert shutil.which("softhsm2-util") is not None, "apt-get install softhsm2"
    assert SOFTHSM_MODULE.exists(), SOFTHSM_MODULE
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    config = root / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(config)
    labels = [f"exchange-{uuid.uuid4().hex[:12]}" for _ in range(_POOL)]
    for label in labels:
        subprocess.run(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                "27182818",
                "--pin",
                USER_PIN,
            ],
            check=True,
            capture_output=True,
        )
    return iter(labels)


@pytest.fixture
def token(softhsm_tokens: Iterator[str], tmp_path: Path) -> Token:
    label = next(softhsm_tokens, None)
    assert label is not None, "more tests use a token than tests/hsm.py makes: raise _POOL"
    pin_file = tmp_path / "pin"
    pin_file.write_text(USER_PIN + "\n")
    pin_file.chmod(0o600)
    return Token(label=label, pin_file=pin_file)
