"""Field-level encryption, blind indexes and the keyring (docs/contract.md §5).

The only package that touches AES, HMAC or key material. Other domains call:

- :func:`load_key_material` / :class:`LocalKeyring` at start-up (:func:`ensure_keys` in ``init``),
- :func:`new_dek`, :meth:`Keyring.wrap_dek` / :meth:`Keyring.unwrap_dek` per alert,
- :class:`FieldCipher` (or :func:`seal_field` / :func:`open_field`) per sensitive field,
- :func:`normalise_text` / :func:`normalise_identifier` and :func:`blind_index` for search,
- :func:`add_kek_version` and :func:`rewrap_dek` for ``keys rotate`` and ``keys rewrap``,
- :func:`kek_canary` / :func:`blind_index_check` and their checks, for the key check
  (:mod:`exchange_api.key_check`).
- :func:`new_webhook_secret`, :func:`seal_webhook_secret` / :func:`open_webhook_secret` and
  :func:`webhook_signature` for signed webhooks.

Anything stored that fails to authenticate raises :class:`IntegrityError` (500, fail closed).
"""

from exchange_api.crypto.blind_index import (
    BLIND_INDEX_FIELDS,
    DOCUMENT_NUMBER,
    PARTY_IDENTIFIER,
    PARTY_NAME,
    PERSON_NAME_DOB,
    blind_index,
    normalise_identifier,
    normalise_person,
    normalise_text,
)
from exchange_api.crypto.envelope import FieldCipher, new_dek, open_field, rewrap_dek, seal_field
from exchange_api.crypto.errors import IntegrityError
from exchange_api.crypto.key_check import (
    blind_index_check,
    blind_index_check_matches,
    kek_canary,
    kek_canary_opens,
)
from exchange_api.crypto.keyfiles import (
    KeyFileError,
    KeyMaterial,
    add_kek_version,
    ensure_keys,
    kek_path,
    load_key_material,
)
from exchange_api.crypto.keyring import Keyring, LocalKeyring, WrappedDek
from exchange_api.crypto.webhook_secrets import (
    new_webhook_secret,
    open_webhook_secret,
    seal_webhook_secret,
    shown_secret,
    webhook_signature,
)

__all__ = [
    "BLIND_INDEX_FIELDS",
    "DOCUMENT_NUMBER",
    "PARTY_IDENTIFIER",
    "PARTY_NAME",
    "PERSON_NAME_DOB",
    "FieldCipher",
    "IntegrityError",
    "KeyFileError",
    "KeyMaterial",
    "Keyring",
    "LocalKeyring",
    "WrappedDek",
    "add_kek_version",
    "blind_index",
    "blind_index_check",
    "blind_index_check_matches",
    "ensure_keys",
    "kek_canary",
    "kek_canary_opens",
    "kek_path",
    "load_key_material",
    "new_dek",
    "new_webhook_secret",
    "normalise_identifier",
    "normalise_person",
    "normalise_text",
    "open_field",
    "open_webhook_secret",
    "rewrap_dek",
    "seal_field",
    "seal_webhook_secret",
    "shown_secret",
    "webhook_signature",
]
