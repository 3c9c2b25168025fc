"""The PKCS#11 keyring against a real SoftHSM2 token: KEKs made in the token and never readable,
DEKs wrapped by AES-GCM in the token with the same binding to their alert as the file keyring,
rotation, and re-wrapping from a file KEK into the token."""

from __future__ import annotations

from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.exceptions import AttributeSensitive, PKCS11Error
from pydantic import ValidationError

from exchange_api.config import Settings
from exchange_api.crypto import IntegrityError, LocalKeyring, load_key_material, new_dek, rewrap_dek
from exchange_api.crypto.errors import TokenUnavailable
from exchange_api.crypto.keyfiles import KeyFileError
from exchange_api.crypto.pkcs11_keyring import Pkcs11Keyring, Pkcs11Settings
from exchange_api.crypto.providers import open_keyring
from tests.hsm import SOFTHSM_MODULE, USER_PIN, Token

ALERT = "01900000-0000-7000-8000-000000000001"
OTHER_ALERT = "01900000-0000-7000-8000-000000000002"


def hsm_keyring(token: Token, keys_dir: Path, *, pin: str = USER_PIN) -> Pkcs11Keyring:
    material = load_key_material(keys_dir)
    return Pkcs11Keyring(
        Pkcs11Settings(module=str(SOFTHSM_MODULE), token_label=token.label, pin=pin),
        blind_index_root=material.blind_index_root,
        fallback=LocalKeyring(material, keys_dir=keys_dir),
    )


def test_create_rotate_and_bind_to_the_alert(token: Token, fresh_keys_dir: Path) -> None:
    keyring = hsm_keyring(token, fresh_keys_dir)
    with pytest.raises(TokenUnavailable, match="holds no KEK"):
        _ = keyring.current_kek_version

    assert keyring.add_kek_version(after=1) == 2  # after the file KEK, version 1
    dek = new_dek()
    wrapped = keyring.wrap_dek(dek, alert_id=ALERT)
    assert wrapped.kek_version == 2
    assert dek not in wrapped.blob
    assert keyring.unwrap_dek(wrapped, alert_id=ALERT) == dek
    with pytest.raises(IntegrityError):
        keyring.unwrap_dek(wrapped, alert_id=OTHER_ALERT)
    tampered = bytearray(wrapped.blob)
    tampered[-1] ^= 1
    with pytest.raises(IntegrityError):
        keyring.unwrap_dek(type(wrapped)(2, bytes(tampered)), alert_id=ALERT)

    assert keyring.add_kek_version(after=1) == 3
    assert keyring.current_kek_version == 3
    assert keyring.unwrap_dek(wrapped, alert_id=ALERT) == dek
    moved = rewrap_dek(keyring, wrapped, alert_id=ALERT)
    assert moved.kek_version == 3
    assert keyring.unwrap_dek(moved, alert_id=ALERT) == dek

    # Another process sees both versions in the token.
    assert hsm_keyring(token, fresh_keys_dir).kek_versions == [2, 3]


def test_the_kek_never_leaves_the_token(token: Token, fresh_keys_dir: Path) -> None:
    keyring = hsm_keyring(token, fresh_keys_dir)  # logged in: its sessions share the login
    keyring.add_kek_version(after=1)
    session = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=token.label).open(rw=True)
    with session:
        kek = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label="exchange-api-kek-0002")
        assert kek[Attribute.EXTRACTABLE] is False
        assert kek[Attribute.SENSITIVE] is True
        with pytest.raises(AttributeSensitive):
            _ = kek[Attribute.VALUE]
        wrapping = session.generate_key(KeyType.AES, 256, template={Attribute.WRAP: True})
        with pytest.raises(PKCS11Error):
            wrapping.wrap_key(kek)


def test_a_file_dek_is_rewrapped_into_the_token(token: Token, fresh_keys_dir: Path) -> None:
    local = LocalKeyring(load_key_material(fresh_keys_dir), keys_dir=fresh_keys_dir)
    dek = new_dek()
    from_file = local.wrap_dek(dek, alert_id=ALERT)
    assert from_file.kek_version == 1

    keyring = hsm_keyring(token, fresh_keys_dir)
    keyring.add_kek_version(after=1)
    assert keyring.unwrap_dek(from_file, alert_id=ALERT) == dek  # through the file fallback
    with pytest.raises(IntegrityError):
        keyring.unwrap_dek(from_file, alert_id=OTHER_ALERT)
    in_token = rewrap_dek(keyring, from_file, alert_id=ALERT)
    assert in_token.kek_version == 2
    assert keyring.unwrap_dek(in_token, alert_id=ALERT) == dek
    with pytest.raises(IntegrityError):
        local.unwrap_dek(in_token, alert_id=ALERT)  # the files cannot open it


def test_a_wrong_pin_is_one_line_without_the_pin(token: Token, fresh_keys_dir: Path) -> None:
    with pytest.raises(TokenUnavailable) as refused:
        hsm_keyring(token, fresh_keys_dir, pin="999999")
    assert "999999" not in str(refused.value)
    assert token.label in str(refused.value)


def test_the_settings_need_module_label_and_one_pin(token: Token, fresh_keys_dir: Path) -> None:
    with pytest.raises(ValidationError, match="EXCHANGE_PKCS11_MODULE"):
        Settings(keyring="pkcs11")
    base = {"keyring": "pkcs11", "pkcs11_module": SOFTHSM_MODULE, "pkcs11_token_label": "x"}
    with pytest.raises(ValidationError, match="one of EXCHANGE_PKCS11_PIN"):
        Settings(**base, pkcs11_pin=USER_PIN, pkcs11_pin_file=token.pin_file)
    assert USER_PIN not in repr(Settings(**base, pkcs11_pin=USER_PIN))

    token.pin_file.chmod(0o644)
    settings = Settings(
        keys_dir=fresh_keys_dir,
        **{**base, "pkcs11_token_label": token.label},
        pkcs11_pin_file=token.pin_file,
    )
    with pytest.raises(KeyFileError, match="readable by group or others"):
        open_keyring(settings, load_key_material(fresh_keys_dir))
