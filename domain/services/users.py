"""Use cases of finance desk users: register, disable, change a password, sign in and out.

The password hash arrives made and sealed by the caller, and a sign-in gets the check of
the password as a function of the stored (sealed) hash: the domain holds neither the
hashing library nor any randomness (the session id is drawn by the caller)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from domain.model.clients import Role
from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.users import SignInRefused, User, checked_name, user_stream_id
from domain.ports import EventStore
from domain.services.registrations import registrations
from domain.services.unit_of_work import UnitOfWork, UseCase

PasswordCheck = Callable[[str], Awaitable[bool]]
"""True when the password typed matches the stored (sealed) hash (slow by design)."""


def register_user(*, name: str, role: Role, password: str, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if await uow.find(User, user_stream_id(checked_name(name))) is not None:
            raise InvalidTransition(f"user {name} already exists")
        user = User.register(name=name, role=role, password=password, at=at)
        uow.add(user)
        return user.view()

    return use_case


async def _user(uow: UnitOfWork, name: str) -> User:
    user = await uow.find(User, user_stream_id(checked_name(name)))
    if user is None:
        raise NotFound(f"no user {name}")
    return user


def _on_user(name: str, act: Callable[[User], None]) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        user = await _user(uow, name)
        act(user)
        return user.view()

    return use_case


def disable_user(name: str, reason: str, at: datetime) -> UseCase:
    return _on_user(name, lambda user: user.disable(reason, at))


def change_password(name: str, password: str, at: datetime) -> UseCase:
    return _on_user(name, lambda user: user.change_password(password, at))


def sign_in(name: str, check: PasswordCheck, session_id: str, at: datetime) -> UseCase:
    """Result: ``signed_in`` true with the session's ``expires_at``, or false with the
    ``reason`` (a wrong password is recorded, so the lockout counts it). An unknown name
    is refused like a wrong password and records nothing."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        try:
            user = await uow.find(User, user_stream_id(checked_name(name)))
        except InvalidValue:  # not even a possible name: refused like an unknown one
            user = None
        if user is None:
            await check("")  # as long as a real check, so the answer's time does not tell who exists
            return _refused(SignInRefused("wrong name or password"))
        try:
            user.may_try(at)
        except SignInRefused as refused:
            return _refused(refused)
        if not await check(user.password):
            user.fail_sign_in(at)
            return {**_refused(SignInRefused("wrong name or password")), **_lock(user, at)}
        expires_at = user.sign_in(session_id, at)
        return {"signed_in": True, **user.view(), "session_id": session_id, "expires_at": expires_at.isoformat()}

    return use_case


def _refused(refused: SignInRefused) -> dict[str, Any]:
    until = refused.locked_until.isoformat() if refused.locked_until else None
    return {"signed_in": False, "reason": str(refused), "locked_until": until}


def _lock(user: User, at: datetime) -> dict[str, Any]:
    until = user.locked_until(at)
    return {"locked_until": until.isoformat()} if until else {}


def sign_out(name: str, session_id: str, at: datetime) -> UseCase:
    return _on_user(name, lambda user: user.sign_out(session_id, at))


async def load_user(store: EventStore, name: str) -> User | None:
    return await UnitOfWork(store).find(User, user_stream_id(checked_name(name)))


async def list_users(store: EventStore) -> list[dict[str, Any]]:
    """Every user ever registered, in registration order, as `User.view` (no hashes)."""
    views = []
    for event in await registrations(store, User.Registered):
        user = await load_user(store, event.name)
        assert user is not None, "a registration without its user stream"
        views.append(user.view())
    return views
