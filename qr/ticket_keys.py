"""Ticket keys: the issuer's signer and the published public key set, by key id.

The public set is served as a JSON Web Key Set (RFC 8037 ``OKP``/``Ed25519`` keys with
``kid`` the decimal key id), a format validators and citizen apps can already parse.
Rotation: issue with a new key id, keep the old public key in the set until the last
ticket it signed has expired, then drop it; a code signed by a dropped key is rejected
as ``unknown_key``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from qr.errors import QRError
from qr.tickets import KEY_ID_MAX, Ticket, VerifiedTicket, sign_ticket, verify_ticket

# Bounds what a key set document can make a validator load and keep in memory.
MAX_KEYS = 64
_PUBLIC_KEY_BYTES = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_CANONICAL_KID = re.compile(r"0|[1-9][0-9]{0,4}")


class KeySetError(QRError):
    """A key set document or key id is invalid."""


class TicketSigner:
    """Signs tickets with one private key, published under ``key_id``."""

    def __init__(self, key_id: int, private_key: Ed25519PrivateKey) -> None:
        _check_key_id(key_id)
        self.key_id = key_id
        self._private_key = private_key
        self.public_key = private_key.public_key()

    def sign(self, ticket: Ticket) -> str:
        return sign_ticket(ticket, self.key_id, self._private_key)


class TicketKeyRing(Mapping[int, Ed25519PublicKey]):
    """The public keys validators trust, by key id; immutable once built."""

    def __init__(self, keys: Mapping[int, Ed25519PublicKey]) -> None:
        if len(keys) > MAX_KEYS:
            raise KeySetError(f"{len(keys)} keys, at most {MAX_KEYS}")
        for key_id in keys:
            _check_key_id(key_id)
        self._keys = dict(keys)

    def __getitem__(self, key_id: int) -> Ed25519PublicKey:
        return self._keys[key_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def verify(self, code: str, at: datetime, leeway_s: int = 0) -> VerifiedTicket:
        """See ``qr.tickets.verify_ticket``."""
        return verify_ticket(code, self._keys, at, leeway_s)

    def to_jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [_jwk(key_id, key) for key_id, key in sorted(self._keys.items())]}

    @classmethod
    def from_jwks(cls, document: object) -> TicketKeyRing:
        """Parses a JWKS as made by ``to_jwks``; raises ``KeySetError`` naming the fault."""
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise KeySetError("expected an object with a 'keys' list")
        entries: list[object] = document["keys"]
        if len(entries) > MAX_KEYS:
            raise KeySetError(f"{len(entries)} keys, at most {MAX_KEYS}")
        keys: dict[int, Ed25519PublicKey] = {}
        for index, entry in enumerate(entries):
            key_id, key = _parse_jwk(index, entry)
            if key_id in keys:
                raise KeySetError(f"keys[{index}]: kid {key_id} appears more than once")
            keys[key_id] = key
        return cls(keys)


def _check_key_id(key_id: int) -> None:
    if type(key_id) is not int or not 0 <= key_id <= KEY_ID_MAX:
        raise KeySetError(f"key id must be an int in 0..{KEY_ID_MAX}, got {key_id!r}")


def _jwk(key_id: int, key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": str(key_id),
        "x": x,
    }


def _parse_jwk(index: int, entry: object) -> tuple[int, Ed25519PublicKey]:
    where = f"keys[{index}]"
    if not isinstance(entry, Mapping):
        raise KeySetError(f"{where}: expected an object")
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        raise KeySetError(f"{where}: only kty 'OKP' with crv 'Ed25519' is accepted")
    kid, x = entry.get("kid"), entry.get("x")
    # Only the canonical decimal form, so one key id has exactly one spelling.
    if not isinstance(kid, str) or not _CANONICAL_KID.fullmatch(kid):
        raise KeySetError(f"{where}: kid must be a decimal key id, got {kid!r}")
    key_id = int(kid)
    _check_key_id(key_id)
    # JWK base64url has no padding; the stdlib decoder alone would skip stray characters.
    if not isinstance(x, str) or not _BASE64URL.fullmatch(x):
        raise KeySetError(f"{where}: x is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    except binascii.Error:
        raise KeySetError(f"{where}: x is not unpadded base64url") from None
    if len(raw) != _PUBLIC_KEY_BYTES:
        raise KeySetError(f"{where}: x must hold {_PUBLIC_KEY_BYTES} bytes, got {len(raw)}")
    return key_id, Ed25519PublicKey.from_public_bytes(raw)
