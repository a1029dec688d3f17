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
        ("150000,", "VND", ",", 150000),
        ("0.100", "KWD", ".", 100),
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


@pytest.mark.parametrize(
    ("text", "currency", "mark", "message"),
    [
        ("200.000", "VND", ".", r"Vietnamese notation 200\.000 is 200000 VND, not 200"),
        ("1.234.567", "VND", ".", r"is 1234567 VND"),
        ("200.0", "VND", ".", "VND has no minor unit"),
        ("200.", "VND", ".", "VND has no minor unit"),
        ("1.000", "EUR", ".", "3 decimals, more than EUR has"),  # one thousand euros in German notation
        ("150,000", "VND", ",", "3 decimals, more than VND has"),  # MT940: nothing after the comma for VND
        ("150000,00", "VND", ",", "2 decimals"),
    ],
)
def test_amounts_a_reader_could_misread_by_a_thousand_are_refused(
    text: str, currency: str, mark: str, message: str
) -> None:
    with pytest.raises(AmountError, match=message):
        to_minor(text, currency, decimal_mark=mark)


def test_exponents_follow_iso_4217() -> None:
    assert [exponent(c) for c in ("VND", "EUR", "CHF", "SEK", "JPY", "KWD", "CLF")] == [0, 2, 2, 2, 0, 3, 4]


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["VND", "EUR", "KWD", "CLF"]))
def test_format_and_parse_round_trip(minor: int, currency: str) -> None:
    text = format_minor(minor, currency)
    assert to_minor(text.lstrip("-"), currency) * (-1 if minor < 0 else 1) == minor
