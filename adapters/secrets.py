"""Sealing shared secrets (HMAC client keys, bank connector secrets) for storage.

With the store's cipher key (``CITYSETTLE_CIPHER_KEY``) a secret is sealed with AES-GCM
by eventsourcing's own `AESCipher`, so it is encrypted inside the event even when an
auditor exports decoded events; without one it is only base64 (the deployment chose
not to encrypt at rest). The prefix says which, so a store that gains a cipher key
later still opens the secrets sealed before.
"""

from __future__ import annotations

import base64
import binascii

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

SEALED = "aesgcm:"
PLAIN = "plain:"


class SecretUnreadable(Exception):
    """A sealed secret cannot be opened: wrong or missing cipher key, or damaged."""


class SecretSealer:
    def __init__(self, cipher_key: str | None) -> None:
        self._cipher = AESCipher(Environment(env={AESCipher.CIPHER_KEY: cipher_key})) if cipher_key else None

    @property
    def encrypts(self) -> bool:
        return self._cipher is not None

    def seal(self, secret: bytes) -> str:
        if self._cipher is None:
            return PLAIN + base64.b64encode(secret).decode()
        return SEALED + base64.b64encode(self._cipher.encrypt(secret)).decode()

    def open(self, sealed: str) -> bytes:
        try:
            if sealed.startswith(PLAIN):
                return base64.b64decode(sealed[len(PLAIN) :], validate=True)
            if sealed.startswith(SEALED):
                if self._cipher is None:
                    raise SecretUnreadable("the secret is encrypted but no cipher key is configured")
                return self._cipher.decrypt(base64.b64decode(sealed[len(SEALED) :], validate=True))
        except (binascii.Error, ValueError) as exc:
            raise SecretUnreadable(f"damaged secret: {type(exc).__name__}") from exc
        raise SecretUnreadable("unknown secret format")
