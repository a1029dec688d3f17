"""Finance desk users: who may sign in to ``/finance``, with which role, and what they did.

`User` invariants:
- one role for life: ``finance`` (reads and decides) or ``auditor`` (reads only);
- the password is kept only as an Argon2id hash, sealed by the caller (encrypted with the
  store's cipher key when it has one); the hash is never part of a view;
- a sign-in opens a session with an id the caller draws and an absolute expiry; signing
  out, or disabling the user, ends it; a disabled user cannot sign in again;
- lockout: `MAX_FAILURES` wrong passwords within `FAILURE_WINDOW` (counted since the last
  successful sign-in) lock the user until the oldest of them leaves the window. While
  locked, attempts are refused without looking at the password and nothing is recorded,
  so a guesser gets at most `MAX_FAILURES` tries per window and the log grows by as much.

Nothing is ever deleted: an auditor sees who was allowed what, and when they signed in.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.clients import Role
from domain.model.errors import DomainError, InvalidTransition, InvalidValue

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/desk-user")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
DESK_ROLES = (Role.FINANCE, Role.AUDITOR)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)  # one working day; then sign in again
SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


class SignInRefused(DomainError):
    """Wrong name or password, a disabled user, or a locked one; ``locked_until`` when locked."""

    code = "sign-in-refused"
    status = 401

    def __init__(self, detail: str, locked_until: datetime | None = None) -> None:
        super().__init__(detail)
        self.locked_until = locked_until


def user_stream_id(name: str) -> UUID:
    return uuid5(USER_NAMESPACE, name)


def checked_name(name: str) -> str:
    """A sign-in name: 1-64 lower-case letters, digits, ``.``, ``_`` or ``-``."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidValue(
            "a user name is 1-64 lower-case letters, digits, '.', '_' or '-', starting with one of the first two"
        )
    return name


class User(Aggregate):
    """A finance desk user (see the module docstring)."""

    class Registered(Aggregate.Created):
        name: str
        role: str
        password: str  # the sealed Argon2id hash

    class PasswordChanged(Aggregate.Event):
        password: str

        def apply(self, aggregate: User) -> None:
            aggregate.password = self.password
            aggregate.sessions.clear()

    class SignInFailed(Aggregate.Event):
        def apply(self, aggregate: User) -> None:
            aggregate.failures = [*aggregate.failures, self.timestamp]

    class SignedIn(Aggregate.Event):
        session_id: str
        expires_at: datetime

        def apply(self, aggregate: User) -> None:
            aggregate.failures = []
            # sessions past their expiry at this sign-in are gone for good
            aggregate.sessions = {s: e for s, e in aggregate.sessions.items() if e > self.timestamp}
            aggregate.sessions[self.session_id] = self.expires_at

    class SignedOut(Aggregate.Event):
        session_id: str

        def apply(self, aggregate: User) -> None:
            aggregate.sessions.pop(self.session_id, None)

    class Disabled(Aggregate.Event):
        reason: str

        def apply(self, aggregate: User) -> None:
            aggregate.disabled = True
            aggregate.sessions.clear()

    def __init__(self, name: str, role: str, password: str) -> None:
        self.name = name
        self.role = Role(role)
        self.password = password
        self.disabled = False
        self.failures: list[datetime] = []  # wrong passwords since the last sign-in
        self.sessions: dict[str, datetime] = {}  # open session id -> its expiry

    @classmethod
    def register(cls, *, name: str, role: Role, password: str, at: datetime) -> User:
        if role not in DESK_ROLES:
            raise InvalidValue(f"a finance desk user is {' or '.join(r.value for r in DESK_ROLES)}, not {role.value}")
        if not password:
            raise InvalidValue("a user needs a password hash")
        return cls._create(
            cls.Registered, id=user_stream_id(checked_name(name)), timestamp=at, name=name, role=role.value,
            password=password,
        )  # fmt: skip

    def locked_until(self, at: datetime) -> datetime | None:
        """When the lockout ends, if the user is locked at ``at``."""
        recent = [t for t in self.failures if at - t < FAILURE_WINDOW]
        if len(recent) < MAX_FAILURES:
            return None
        return recent[-MAX_FAILURES] + FAILURE_WINDOW

    def may_try(self, at: datetime) -> None:
        """Refuse an attempt before its password is looked at: disabled or locked."""
        if self.disabled:
            raise SignInRefused("this user is disabled")
        until = self.locked_until(at)
        if until is not None:
            raise SignInRefused("too many wrong passwords: locked for now", until)

    def fail_sign_in(self, at: datetime) -> None:
        self.may_try(at)
        self.trigger_event(self.SignInFailed, timestamp=at)

    def sign_in(self, session_id: str, at: datetime) -> datetime:
        """Open a session (the password was verified by the caller); its expiry."""
        self.may_try(at)
        if not SESSION_ID_PATTERN.fullmatch(session_id) or session_id in self.sessions:
            raise InvalidValue("a session id is 32 new hexadecimal digits")
        expires_at = at + SESSION_LIFETIME
        self.trigger_event(self.SignedIn, timestamp=at, session_id=session_id, expires_at=expires_at)
        return expires_at

    def sign_out(self, session_id: str, at: datetime) -> None:
        if session_id in self.sessions:
            self.trigger_event(self.SignedOut, timestamp=at, session_id=session_id)

    def session_open(self, session_id: str, at: datetime) -> bool:
        expires_at = self.sessions.get(session_id)
        return not self.disabled and expires_at is not None and at < expires_at

    def change_password(self, password: str, at: datetime) -> None:
        """A new hash; every open session ends."""
        self._require_active()
        if not password:
            raise InvalidValue("a user needs a password hash")
        self.trigger_event(self.PasswordChanged, timestamp=at, password=password)

    def disable(self, reason: str, at: datetime) -> None:
        self._require_active()
        if not reason.strip():
            raise InvalidValue("say why the user is disabled")
        self.trigger_event(self.Disabled, timestamp=at, reason=reason.strip())

    def view(self) -> dict[str, Any]:
        """What anyone may see of the user: never the password hash."""
        return {
            "name": self.name,
            "role": self.role.value,
            "disabled": self.disabled,
            "registered_at": self.created_on.isoformat(),
        }

    def _require_active(self) -> None:
        if self.disabled:
            raise InvalidTransition(f"user {self.name} is disabled")
