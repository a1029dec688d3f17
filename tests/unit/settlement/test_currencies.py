from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.currencies import AmountError, exponent, format_minor, to_minor


@pytest.mark.parametrize(
    ("text", "currency", "mark", "minor"),
    [
        ("322152.16", "CHF", ".", 32215216),
        ("474.4", "CHF", ".", 47440),
        ("200000", "SEK", ".", 20000000),
        ("200000", "VND", ".", 200000),
        ("1.0", "VND", ".", 1),
        ("300,", "EUR", ",", 30000),
        ("1234718,36", "EUR", ",", 123471836),
        ("0.001", "KWD", ".", 1),
        ("5", "JPY", ".", 5),
    ],
)
def test_amounts_become_exact_minor_units(text: str, currency: str, mark: str, minor: int) -> None:
    assert to_minor(text, currency, decimal_mark=mark) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [("1.5", "VND"), ("10.005", "EUR"), ("-1", "EUR"), ("1e3", "EUR"), ("", "EUR"), ("1_000", "EUR"), ("1", "XYZ")],
)
def test_inexact_or_malformed_amounts_are_refused(text: str, currency: str) -> None:
    with pytest.raises(AmountError):
        to_minor(text, currency)


def test_exponents_follow_iso_4217() -> None:
    assert [exponent(c) for c in ("VND", "EUR", "CHF", "SEK", "JPY", "KWD", "CLF")] == [0, 2, 2, 2, 0, 3, 4]


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["VND", "EUR", "KWD", "CLF"]))
def test_format_and_parse_round_trip(minor: int, currency: str) -> None:
    text = format_minor(minor, currency)
    assert to_minor(text.lstrip("-"), currency) * (-1 if minor < 0 else 1) == minor
