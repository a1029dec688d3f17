"""Passwords: Argon2id hashes, sealed; checks that fail closed."""

from __future__ import annotations

import base64

import pytest
from argon2 import PasswordHasher

from adapters.passwords import PASSWORD_MAX, PasswordBook, WeakPassword
from adapters.secrets import SecretSealer

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # the same Argon2id, quick for tests
KEY = base64.b64encode(b"k" * 32).decode()


def test_a_sealed_hash_checks_the_right_password_only() -> None:
    book = PasswordBook(SecretSealer(None), CHEAP)
    sealed = book.seal("correct horse battery staple")
    assert book.check("correct horse battery staple", sealed)
    assert not book.check("correct horse battery stapl", sealed)
    assert not book.check("", sealed)


def test_the_hash_is_argon2id_and_encrypted_with_a_cipher_key() -> None:
    plain = PasswordBook(SecretSealer(None), CHEAP).seal("correct horse battery staple")
    assert base64.b64decode(plain.removeprefix("plain:")).startswith(b"$argon2id$")
    sealed = PasswordBook(SecretSealer(KEY), CHEAP).seal("correct horse battery staple")
    assert sealed.startswith("aesgcm:")
    assert b"argon2" not in base64.b64decode(sealed.removeprefix("aesgcm:"))
    assert PasswordBook(SecretSealer(KEY), CHEAP).check("correct horse battery staple", sealed)
    assert not PasswordBook(SecretSealer(None), CHEAP).check("correct horse battery staple", sealed)


def test_no_user_and_damaged_hashes_never_pass() -> None:
    book = PasswordBook(SecretSealer(None), CHEAP)
    assert not book.check("anything at all", "")
    assert not book.check("anything at all", "plain:!!!")
    assert not book.check("anything at all", "plain:" + base64.b64encode(b"$argon2id$broken").decode())
    assert not book.check("x" * (PASSWORD_MAX + 1), book.seal("correct horse battery staple"))


@pytest.mark.parametrize("password", ["short", "x" * (PASSWORD_MAX + 1)])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        PasswordBook(SecretSealer(None), CHEAP).seal(password)
