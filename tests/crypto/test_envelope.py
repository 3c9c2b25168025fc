from __future__ import annotations

from pathlib import Path

import pytest

from exchange_api.crypto import (
    FieldCipher,
    IntegrityError,
    LocalKeyring,
    add_kek_version,
    load_key_material,
    new_dek,
    open_field,
    rewrap_dek,
    seal_field,
)
from exchange_api.errors import ProblemError

ALERT = "01890a5d-ac96-774b-bcce-b302099a8057"
OTHER_ALERT = "01890a5d-ac96-774b-bcce-b302099a8058"
SECRET = b"Example Chemical Trading Co., Rotterdam"


def sealed_secret(dek: bytes) -> bytes:
    return seal_field(dek, alert_id=ALERT, field="party.name", dek_version=1, plaintext=SECRET)


def test_new_dek_is_32_fresh_random_bytes() -> None:
    assert len(new_dek()) == 32
    assert new_dek() != new_dek()


@pytest.mark.parametrize("plaintext", [b"", b"x", SECRET, bytes(range(256)) * 64])
def test_seal_and_open_round_trip(plaintext: bytes) -> None:
    dek = new_dek()

    sealed = seal_field(dek, alert_id=ALERT, field="notes", dek_version=1, plaintext=plaintext)

    assert open_field(dek, alert_id=ALERT, field="notes", dek_version=1, sealed=sealed) == plaintext


def test_sealed_layout_is_header_nonce_ciphertext_tag() -> None:
    sealed = seal_field(new_dek(), alert_id=ALERT, field="f", dek_version=258, plaintext=SECRET)

    assert sealed[0] == 0x01
    assert sealed[1:5] == (258).to_bytes(4, "big")
    assert len(sealed) == 5 + 12 + len(SECRET) + 16
    assert SECRET not in sealed


def test_sealing_twice_uses_fresh_nonces() -> None:
    dek = new_dek()

    assert sealed_secret(dek) != sealed_secret(dek)


def test_field_cipher_matches_the_one_shot_functions() -> None:
    dek = new_dek()
    cipher = FieldCipher(dek, alert_id=ALERT, dek_version=1)

    by_cipher = cipher.seal("party.name", SECRET)
    by_function = sealed_secret(dek)

    assert (
        open_field(dek, alert_id=ALERT, field="party.name", dek_version=1, sealed=by_cipher)
        == SECRET
    )
    assert cipher.open("party.name", by_function) == SECRET
    assert dek.hex() not in repr(cipher)


@pytest.mark.parametrize(
    ("alert_id", "field", "dek_version"),
    [
        (OTHER_ALERT, "party.name", 1),
        (ALERT, "party.identifier", 1),
        (ALERT, "party.name", 2),
        (ALERT, "party.name\x00", 1),
    ],
    ids=["other-alert", "other-field", "other-dek-version", "field-with-suffix"],
)
def test_a_value_moved_elsewhere_does_not_open(alert_id: str, field: str, dek_version: int) -> None:
    dek = new_dek()
    sealed = sealed_secret(dek)

    with pytest.raises(IntegrityError):
        open_field(dek, alert_id=alert_id, field=field, dek_version=dek_version, sealed=sealed)


def test_alert_id_and_field_boundaries_are_unambiguous() -> None:
    dek = new_dek()
    sealed = seal_field(dek, alert_id="ab", field="c", dek_version=1, plaintext=SECRET)

    with pytest.raises(IntegrityError):
        open_field(dek, alert_id="a", field="bc", dek_version=1, sealed=sealed)


def test_a_wrong_key_does_not_open() -> None:
    sealed = sealed_secret(new_dek())

    with pytest.raises(IntegrityError):
        open_field(new_dek(), alert_id=ALERT, field="party.name", dek_version=1, sealed=sealed)


def test_every_flipped_bit_fails_header_nonce_body_and_tag() -> None:
    dek = new_dek()
    cipher = FieldCipher(dek, alert_id=ALERT, dek_version=1)
    sealed = cipher.seal("party.name", b"8 bytes!")

    for bit in range(len(sealed) * 8):
        tampered = bytearray(sealed)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(IntegrityError):
            cipher.open("party.name", bytes(tampered))


@pytest.mark.parametrize("length", [0, 1, 5, 17, 32])
def test_truncated_values_fail(length: int) -> None:
    dek = new_dek()
    sealed = sealed_secret(dek)

    with pytest.raises(IntegrityError):
        open_field(dek, alert_id=ALERT, field="party.name", dek_version=1, sealed=sealed[:length])


def test_integrity_error_is_a_500_problem_that_reveals_nothing() -> None:
    dek = new_dek()
    sealed = sealed_secret(dek)

    with pytest.raises(IntegrityError) as caught:
        open_field(dek, alert_id=OTHER_ALERT, field="party.name", dek_version=1, sealed=sealed)

    error = caught.value
    assert isinstance(error, ProblemError)
    assert (error.status, error.slug) == (500, "integrity-failure")
    assert error.title == "Stored data failed its integrity check"
    text = f"{error} {error.detail} {error.extra}"
    for secret in (SECRET.decode(), SECRET.hex(), dek.hex(), sealed.hex(), OTHER_ALERT):
        assert secret not in text


@pytest.mark.parametrize(
    ("dek", "dek_version"),
    [(bytes(16), 1), (bytes(33), 1), (bytes(32), -1), (bytes(32), 2**32)],
)
def test_bad_arguments_are_programming_errors(dek: bytes, dek_version: int) -> None:
    with pytest.raises(ValueError, match="DEK"):
        FieldCipher(dek, alert_id=ALERT, dek_version=dek_version)


def test_rewrap_moves_the_dek_to_the_new_kek_and_fields_stay_readable(
    fresh_keys_dir: Path, keyring: LocalKeyring
) -> None:
    dek = new_dek()
    wrapped = keyring.wrap_dek(dek, alert_id=ALERT)
    sealed = sealed_secret(dek)

    add_kek_version(fresh_keys_dir)
    rotated = LocalKeyring(load_key_material(fresh_keys_dir))
    rewrapped = rewrap_dek(rotated, wrapped, alert_id=ALERT)

    assert rewrapped.kek_version == 2
    assert rewrapped.blob != wrapped.blob
    recovered = rotated.unwrap_dek(rewrapped, alert_id=ALERT)
    assert (
        open_field(recovered, alert_id=ALERT, field="party.name", dek_version=1, sealed=sealed)
        == SECRET
    )
    # Rewrapped under KEK 2, the DEK no longer depends on KEK 1.
    (fresh_keys_dir / "kek/0001.key").unlink()
    without_old_kek = LocalKeyring(load_key_material(fresh_keys_dir))
    assert without_old_kek.unwrap_dek(rewrapped, alert_id=ALERT) == dek


def test_rewrap_of_a_current_dek_returns_it_unchanged(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)

    assert rewrap_dek(keyring, wrapped, alert_id=ALERT) is wrapped


def test_rewrap_checks_the_binding(fresh_keys_dir: Path, keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap_dek(new_dek(), alert_id=ALERT)
    add_kek_version(fresh_keys_dir)
    rotated = LocalKeyring(load_key_material(fresh_keys_dir))

    with pytest.raises(IntegrityError):
        rewrap_dek(rotated, wrapped, alert_id=OTHER_ALERT)
    with pytest.raises(IntegrityError):
        rewrap_dek(keyring, wrapped, alert_id=OTHER_ALERT)
