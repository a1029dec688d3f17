"""The counter display's capability tokens: made by the service's key alone, for one
payment, until a second after which they are expired; anything else is invalid."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.http.display_links import DisplayKeyError, DisplayLinks, LinkCheck

KEY = b"k" * 32
EXPIRES = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PAYMENT = "d4fdf159-55db-5784-a4b3-f5479e9cc337"
links = DisplayLinks(KEY, timedelta(minutes=30))
uuids = st.uuids().map(str)
times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def test_the_link_names_the_page_and_its_token() -> None:
    token = links.token(PAYMENT, EXPIRES)
    assert links.url(PAYMENT, EXPIRES) == f"/counter/{PAYMENT}?t={token}"
    until, _, mac = token.partition(".")
    assert int(until) == int((EXPIRES + timedelta(minutes=30)).timestamp())
    assert len(mac) == 22
    assert set(mac) <= set(string.ascii_letters + string.digits + "-_")


@given(uuids, times)
def test_a_token_is_valid_until_its_second_then_expired(payment: str, expires: datetime) -> None:
    token = links.token(payment, expires)
    end = expires + timedelta(minutes=30)
    assert links.check(payment, token, end - timedelta(seconds=1)) is LinkCheck.VALID
    assert links.check(payment, token, end + timedelta(seconds=1)) is LinkCheck.EXPIRED
    assert links.token(payment, expires) == token, "the same payment always gets the same link"


@given(uuids, uuids)
def test_a_token_opens_its_own_payment_only(one: str, other: str) -> None:
    if UUID(one) != UUID(other):
        assert links.check(other, links.token(one, EXPIRES), EXPIRES) is LinkCheck.INVALID


@given(st.integers(min_value=0), st.sampled_from(string.ascii_letters + string.digits + "-_."))
def test_any_changed_character_makes_it_invalid(position: int, replacement: str) -> None:
    token = links.token(PAYMENT, EXPIRES)
    index = position % len(token)
    changed = token[:index] + replacement + token[index + 1 :]
    if changed != token:
        assert links.check(PAYMENT, changed, EXPIRES) is LinkCheck.INVALID


def test_a_later_expiry_cannot_be_written_into_a_token() -> None:
    until, _, mac = links.token(PAYMENT, EXPIRES).partition(".")
    assert links.check(PAYMENT, f"{int(until) + 86_400}.{mac}", EXPIRES) is LinkCheck.INVALID


@given(st.text(max_size=200))
def test_garbage_is_invalid_never_an_error(token: str) -> None:
    assert links.check(PAYMENT, token, EXPIRES) is LinkCheck.INVALID


def test_another_key_does_not_verify() -> None:
    token = links.token(PAYMENT, EXPIRES)
    assert DisplayLinks(b"x" * 32).check(PAYMENT, token, EXPIRES) is LinkCheck.INVALID
    assert DisplayLinks.random().check(PAYMENT, token, EXPIRES) is LinkCheck.INVALID


def test_the_key_comes_from_a_file_of_at_least_32_bytes(tmp_path: Path) -> None:
    good = tmp_path / "display.key"
    good.write_bytes(KEY + b"\n")
    assert DisplayLinks.from_file(good).key == KEY
    short = tmp_path / "short.key"
    short.write_bytes(b"too short")
    with pytest.raises(DisplayKeyError, match="has 9 bytes; it needs at least 32"):
        DisplayLinks.from_file(short)
    with pytest.raises(DisplayKeyError, match="cannot read the display key"):
        DisplayLinks.from_file(tmp_path / "missing.key")
    with pytest.raises(DisplayKeyError):
        DisplayLinks(b"short")


def test_the_key_is_never_shown() -> None:
    assert "k" * 8 not in repr(links)
