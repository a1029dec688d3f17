"""The finance desk's signed tokens: the session cookie and the CSRF tokens of its forms.

One HMAC-SHA256 key (``CITYSETTLE_SESSION_KEY_FILE``, see `ops.config`) signs them all,
each kind under its own label, so no token of one kind passes for another:

- the session cookie ``v1:<user>:<session id>:<expires, unix s>:<mac>``: who signed in,
  which session (the user's stream says whether it is still open) and until when;
- a form's CSRF token, bound to the session: HMAC(``csrf|<session id>``); a form posted
  without the token of the session that sent it is refused;
- the sign-in form's token, bound to a random nonce in a short-lived cookie of its own
  (there is no session yet, and a forged sign-in would sign the victim in as the forger).

Every comparison is constant-time (`hmac.compare_digest`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.model.users import SESSION_ID_PATTERN

KEY_MIN_BYTES = 32
VERSION = "v1"


class SessionKeyError(ValueError):
    """The session key is missing, unreadable or too short; the message says which."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SessionToken:
    user: str
    session_id: str
    expires_at: datetime


class DeskTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_MIN_BYTES:
            raise SessionKeyError(f"the session key needs at least {KEY_MIN_BYTES} bytes, it has {len(key)}")
        self._key = key

    @classmethod
    def generate(cls) -> DeskTokens:
        return cls(secrets.token_bytes(KEY_MIN_BYTES))

    def _mac(self, label: str, message: str) -> str:
        return _b64(hmac.new(self._key, f"{label}|{message}".encode(), hashlib.sha256).digest())

    def session(self, user: str, session_id: str, expires_at: datetime) -> str:
        body = f"{VERSION}:{user}:{session_id}:{int(expires_at.timestamp())}"
        return f"{body}:{self._mac('session', body)}"

    def read_session(self, token: str, at: datetime) -> SessionToken | None:
        """The token's user and session while it is authentic and unexpired, else None."""
        body, _, mac = token.rpartition(":")
        parts = body.split(":")
        if len(parts) != 4 or parts[0] != VERSION or not hmac.compare_digest(mac, self._mac("session", body)):
            return None
        _, user, session_id, expires = parts
        if not expires.isdigit() or not SESSION_ID_PATTERN.fullmatch(session_id):
            return None
        expires_at = datetime.fromtimestamp(int(expires), UTC)
        return SessionToken(user, session_id, expires_at) if at < expires_at else None

    def csrf(self, session_id: str) -> str:
        return self._mac("csrf", session_id)

    def csrf_ok(self, session_id: str, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.csrf(session_id).encode())

    @staticmethod
    def sign_in_nonce() -> str:
        return secrets.token_hex(16)

    def sign_in_csrf(self, nonce: str) -> str:
        return self._mac("sign-in", nonce)

    def sign_in_csrf_ok(self, nonce: str, given: str) -> bool:
        return bool(nonce) and hmac.compare_digest(given.encode(), self.sign_in_csrf(nonce).encode())
