"""Sealed secrets open only with the cipher key they were sealed with."""

from __future__ import annotations

import pytest

from adapters.secrets import SecretSealer, SecretUnreadable

KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
KEY_B = "HxwdHhscGRobGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwI="


def test_with_a_cipher_key_the_secret_is_encrypted() -> None:
    sealer = SecretSealer(KEY_A)
    sealed = sealer.seal(b"top secret")
    assert sealed.startswith("aesgcm:")
    assert "top" not in sealed
    assert sealer.open(sealed) == b"top secret"


def test_another_key_or_none_cannot_open_it() -> None:
    sealed = SecretSealer(KEY_A).seal(b"top secret")
    with pytest.raises(SecretUnreadable):
        SecretSealer(KEY_B).open(sealed)
    with pytest.raises(SecretUnreadable):
        SecretSealer(None).open(sealed)


def test_without_a_cipher_key_it_still_round_trips_and_stays_readable_later() -> None:
    sealed = SecretSealer(None).seal(b"s")
    assert SecretSealer(None).open(sealed) == b"s"
    assert SecretSealer(KEY_A).open(sealed) == b"s"
    with pytest.raises(SecretUnreadable):
        SecretSealer(None).open("garbage")
