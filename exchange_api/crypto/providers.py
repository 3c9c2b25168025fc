"""Which keyring the service uses (``EXCHANGE_KEYRING``): the one place that builds it.

- ``local`` (default): :class:`~exchange_api.crypto.keyring.LocalKeyring` over the key files.
- ``pkcs11``: :class:`~exchange_api.crypto.pkcs11_keyring.Pkcs11Keyring`, with the key files'
  KEKs as its fallback, so data keys still wrapped under a file KEK open (and ``keys rewrap``
  moves them into the token). Once none is left, the ``kek/`` files can be destroyed.

The PIN is read here, from ``EXCHANGE_PKCS11_PIN`` or the file ``EXCHANGE_PKCS11_PIN_FILE``
(refused if others can read it), handed to the token to log in, and kept nowhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchange_api.config import Settings
from exchange_api.crypto.keyfiles import KeyFileError, KeyMaterial, read_private_file
from exchange_api.crypto.keyring import Keyring, LocalKeyring

if TYPE_CHECKING:
    from exchange_api.crypto.pkcs11_keyring import Pkcs11Keyring

__all__ = ["open_hsm_keyring", "open_keyring"]


def open_keyring(settings: Settings, keys: KeyMaterial) -> Keyring:
    """The keyring ``settings`` select; :class:`TokenUnavailable` if the token cannot be used
    or holds no KEK yet (``keys rotate`` makes the first: :func:`open_hsm_keyring`)."""
    if settings.keyring == "pkcs11":
        keyring = open_hsm_keyring(settings, keys)
        keyring.current_kek_version  # noqa: B018 (refuses a token without a KEK, now)
        return keyring
    return LocalKeyring(keys, keys_dir=settings.keys_dir)


def open_hsm_keyring(settings: Settings, keys: KeyMaterial) -> Pkcs11Keyring:
    """The PKCS#11 keyring of ``settings``, falling back to the key files' KEKs."""
    # Imported here: python-pkcs11 is the optional ``hsm`` extra.
    from exchange_api.crypto.pkcs11_keyring import Pkcs11Keyring, Pkcs11Settings

    assert settings.pkcs11_module is not None  # checked by Settings
    assert settings.pkcs11_token_label is not None
    return Pkcs11Keyring(
        Pkcs11Settings(
            module=str(settings.pkcs11_module),
            token_label=settings.pkcs11_token_label,
            pin=_pin(settings),
        ),
        blind_index_root=keys.blind_index_root,
        fallback=LocalKeyring(keys, keys_dir=settings.keys_dir),
    )


def _pin(settings: Settings) -> str:
    if settings.pkcs11_pin is not None:
        return settings.pkcs11_pin.get_secret_value()
    assert settings.pkcs11_pin_file is not None
    try:
        return read_private_file(settings.pkcs11_pin_file).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyFileError(settings.pkcs11_pin_file, "malformed: not a UTF-8 PIN") from None
