"""Finance desk passwords: Argon2id hashes (argon2-cffi), kept sealed (`adapters.secrets`).

The hash is made with argon2-cffi's default parameters (Argon2id, RFC 9106's second
recommended profile: 64 MiB, 3 passes, 4 lanes) and sealed with the store's cipher key
before it goes into an event, so an export of the log holds no hash in the clear when the
service has a cipher key. `PasswordBook.check` compares in the library's constant time
and, for a name nobody has, spends as long on a hash of its own (no timing tells who
exists). Neither a password nor a hash is ever logged or printed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.secrets import SecretSealer, SecretUnreadable

PASSWORD_MIN = 12  # characters; a passphrase is better
PASSWORD_MAX = 1_024  # bounds the work one sign-in can ask for


class WeakPassword(ValueError):
    """A password shorter than `PASSWORD_MIN` or longer than `PASSWORD_MAX`."""


def checked_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise WeakPassword(f"a password has at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise WeakPassword(f"a password has at most {PASSWORD_MAX} characters")
    return password


class PasswordBook:
    def __init__(self, sealer: SecretSealer, hasher: PasswordHasher | None = None) -> None:
        self._sealer = sealer
        self._hasher = hasher or PasswordHasher()
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def seal(self, password: str) -> str:
        """The sealed Argon2id hash of a (checked) password, for a user's event."""
        return self._sealer.seal(self._hasher.hash(checked_password(password)).encode())

    def check(self, password: str, sealed: str) -> bool:
        """Whether ``password`` is the one ``sealed`` was made from; an empty ``sealed``
        (no such user) checks against a decoy and is always false."""
        if len(password) > PASSWORD_MAX:
            return False
        try:
            stored = self._sealer.open(sealed).decode() if sealed else self._decoy
            return self._hasher.verify(stored, password) and bool(sealed)
        except (VerificationError, InvalidHashError, SecretUnreadable, UnicodeDecodeError):
            return False

    def checker(self, password: str) -> Callable[[str], Awaitable[bool]]:
        """`check` of ``password`` as the sign-in use case takes it: off the event loop
        (a hash takes tens of milliseconds of CPU)."""

        async def check(sealed: str) -> bool:
            return await asyncio.to_thread(self.check, password, sealed)

        return check
