"""Capability links of the counter display: ``/counter/{payment_id}?t=TOKEN``.

Whoever holds the link may watch that one payment (no login: the counter's screen or a
parking exit's opens it). The token is ``EXPIRY.MAC``: the Unix second the link stops
working, and HMAC-SHA256 under the service's display key over the payment id and that
second (128 bits, base64url). It is checked before anything is read from the store, in
constant time; a link whose MAC does not verify, or for another payment, is *invalid*,
a well-signed one past its second *expired*. It expires `valid_after_expiry` after
the payment does, so a screen still shows how it ended (paid at the last minute, paid
late, expired). The token is a pure function of the payment, so every answer that
carries the payment gives the same link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

KEY_MIN_BYTES = 32
MAC_BYTES = 16
_CONTEXT = b"citysettle counter display v1\n"
DEFAULT_VALID_AFTER_EXPIRY = timedelta(minutes=30)


class LinkCheck(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"


class DisplayKeyError(ValueError):
    """The display key file is missing, unreadable or too short; the message says which."""


@dataclass(frozen=True, slots=True, repr=False)
class DisplayLinks:
    key: bytes
    valid_after_expiry: timedelta = DEFAULT_VALID_AFTER_EXPIRY

    def __post_init__(self) -> None:
        if len(self.key) < KEY_MIN_BYTES:
            raise DisplayKeyError(f"the display key must have at least {KEY_MIN_BYTES} bytes")

    def __repr__(self) -> str:  # never show the key
        return f"DisplayLinks(valid_after_expiry={self.valid_after_expiry})"

    @classmethod
    def random(cls, valid_after_expiry: timedelta = DEFAULT_VALID_AFTER_EXPIRY) -> DisplayLinks:
        """A key for this process only: its links stop working when it restarts."""
        return cls(secrets.token_bytes(KEY_MIN_BYTES), valid_after_expiry)

    @classmethod
    def from_file(cls, path: Path, valid_after_expiry: timedelta = DEFAULT_VALID_AFTER_EXPIRY) -> DisplayLinks:
        """The key is the file's bytes (surrounding whitespace dropped), at least 32 of them."""
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise DisplayKeyError(f"cannot read the display key {path}: {exc.strerror}") from None
        if len(key) < KEY_MIN_BYTES:
            raise DisplayKeyError(f"the display key {path} has {len(key)} bytes; it needs at least {KEY_MIN_BYTES}")
        return cls(key, valid_after_expiry)

    def _mac(self, payment_id: str, until: int) -> str:
        digest = hmac.new(self.key, _CONTEXT + f"{payment_id}\n{until}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()

    def token(self, payment_id: str, payment_expires_at: datetime) -> str:
        until = int((payment_expires_at + self.valid_after_expiry).timestamp())
        return f"{until}.{self._mac(payment_id, until)}"

    def url(self, payment_id: str, payment_expires_at: datetime) -> str:
        return f"/counter/{payment_id}?t={self.token(payment_id, payment_expires_at)}"

    def check(self, payment_id: str, token: str, now: datetime) -> LinkCheck:
        until_text, dot, mac = token.partition(".")
        if not dot or not until_text.isdigit() or len(until_text) > 12 or len(mac) > 64:
            return LinkCheck.INVALID
        until = int(until_text)
        if not hmac.compare_digest(mac.encode(), self._mac(payment_id, until).encode()):
            return LinkCheck.INVALID
        return LinkCheck.VALID if now.timestamp() < until else LinkCheck.EXPIRED
