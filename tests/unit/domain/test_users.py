"""Finance desk users: roles, sessions, and the lockout's bounded window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.clients import Role
from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.users import FAILURE_WINDOW, MAX_FAILURES, SESSION_LIFETIME, SignInRefused, User

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SID = "0123456789abcdef0123456789abcdef"


def user(role: Role = Role.FINANCE) -> User:
    return User.register(name="lan.nguyen", role=role, password="plain:aGFzaA==", at=T0)


def test_only_finance_and_auditor_users_exist() -> None:
    assert user(Role.AUDITOR).role is Role.AUDITOR
    with pytest.raises(InvalidValue):
        user(Role.ADMIN)
    with pytest.raises(InvalidValue):
        User.register(name="Lan Nguyen", role=Role.FINANCE, password="x", at=T0)


def test_the_view_never_shows_the_hash() -> None:
    assert "password" not in user().view()
    assert "aGFzaA" not in repr(user().view())


def test_a_session_lasts_a_working_day_and_ends_on_sign_out() -> None:
    u = user()
    expires = u.sign_in(SID, T0)
    assert expires == T0 + SESSION_LIFETIME
    assert u.session_open(SID, T0 + SESSION_LIFETIME - timedelta(seconds=1))
    assert not u.session_open(SID, expires)
    u.sign_out(SID, T0 + timedelta(minutes=5))
    assert not u.session_open(SID, T0 + timedelta(minutes=6))
    with pytest.raises(InvalidValue):
        u.sign_in("not-hex", T0)


def test_disabling_ends_every_session_and_refuses_sign_in() -> None:
    u = user()
    u.sign_in(SID, T0)
    u.disable("left the department", T0 + timedelta(hours=1))
    assert not u.session_open(SID, T0 + timedelta(hours=1))
    with pytest.raises(SignInRefused, match="disabled"):
        u.may_try(T0 + timedelta(hours=2))
    with pytest.raises(InvalidTransition):
        u.disable("again", T0 + timedelta(hours=3))


def test_lockout_after_max_failures_within_the_window_and_it_slides() -> None:
    u = user()
    times = [T0 + timedelta(minutes=n) for n in range(MAX_FAILURES)]
    for at in times:
        u.fail_sign_in(at)
    locked_at = times[-1]
    assert u.locked_until(locked_at) == times[0] + FAILURE_WINDOW
    with pytest.raises(SignInRefused) as refused:
        u.sign_in(SID, locked_at + timedelta(minutes=1))  # even the right password waits
    assert refused.value.locked_until == times[0] + FAILURE_WINDOW
    with pytest.raises(SignInRefused):
        u.fail_sign_in(locked_at)  # while locked, nothing more is recorded
    assert len(u.failures) == MAX_FAILURES
    # once the oldest failure leaves the window, one more try is allowed
    free = times[0] + FAILURE_WINDOW
    assert u.locked_until(free) is None
    u.fail_sign_in(free)  # and a wrong one locks again, until the next oldest leaves
    assert u.locked_until(free) == times[1] + FAILURE_WINDOW


def test_failures_spread_beyond_the_window_never_lock() -> None:
    u = user()
    for n in range(3 * MAX_FAILURES):
        at = T0 + n * (FAILURE_WINDOW / (MAX_FAILURES - 1))
        u.fail_sign_in(at)
        assert u.locked_until(at) is None


def test_a_successful_sign_in_clears_the_failures() -> None:
    u = user()
    for n in range(MAX_FAILURES - 1):
        u.fail_sign_in(T0 + timedelta(seconds=n))
    u.sign_in(SID, T0 + timedelta(seconds=10))
    u.fail_sign_in(T0 + timedelta(seconds=11))
    assert u.locked_until(T0 + timedelta(seconds=11)) is None
    assert len(u.failures) == 1
