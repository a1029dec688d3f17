"""The desk's signed tokens: session cookies and CSRF tokens, each bound to what it names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.web.desk_tokens import DeskTokens, SessionKeyError

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SID = "0123456789abcdef0123456789abcdef"


def test_a_session_token_reads_back_until_it_expires() -> None:
    tokens = DeskTokens.generate()
    token = tokens.session("lan", SID, T0 + timedelta(hours=8))
    read = tokens.read_session(token, T0)
    assert read is not None
    assert (read.user, read.session_id) == ("lan", SID)
    assert tokens.read_session(token, T0 + timedelta(hours=8)) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(":lan:", ":kiem:"),
        lambda t: t.replace(SID, "f" * 32),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.rsplit(":", 1)[0],
        lambda t: "v2" + t[2:],
        lambda t: "",
    ],
)
def test_a_tampered_session_token_is_refused(tamper: object) -> None:
    tokens = DeskTokens.generate()
    token = tokens.session("lan", SID, T0 + timedelta(hours=8))
    assert callable(tamper)
    assert tokens.read_session(tamper(token), T0) is None


def test_a_longer_expiry_cannot_be_written_in() -> None:
    tokens = DeskTokens.generate()
    token = tokens.session("lan", SID, T0 + timedelta(hours=1))
    later = int((T0 + timedelta(days=30)).timestamp())
    head, _, mac = token.rpartition(":")
    forged = f"{head.rsplit(':', 1)[0]}:{later}:{mac}"
    assert tokens.read_session(forged, T0 + timedelta(hours=2)) is None


def test_another_key_reads_nothing() -> None:
    token = DeskTokens.generate().session("lan", SID, T0 + timedelta(hours=1))
    assert DeskTokens.generate().read_session(token, T0) is None


def test_csrf_tokens_are_bound_to_their_session() -> None:
    tokens = DeskTokens.generate()
    csrf = tokens.csrf(SID)
    assert tokens.csrf_ok(SID, csrf)
    assert not tokens.csrf_ok("f" * 32, csrf)
    assert not tokens.csrf_ok(SID, "")
    assert not tokens.csrf_ok(SID, csrf[:-1])


def test_the_sign_in_token_is_bound_to_its_nonce_and_is_no_csrf_token() -> None:
    tokens = DeskTokens.generate()
    nonce = tokens.sign_in_nonce()
    assert tokens.sign_in_csrf_ok(nonce, tokens.sign_in_csrf(nonce))
    assert not tokens.sign_in_csrf_ok(tokens.sign_in_nonce(), tokens.sign_in_csrf(nonce))
    assert not tokens.sign_in_csrf_ok("", tokens.sign_in_csrf(""))
    assert not tokens.csrf_ok(nonce, tokens.sign_in_csrf(nonce)), "labels keep the kinds apart"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(SessionKeyError):
        DeskTokens(b"short")
