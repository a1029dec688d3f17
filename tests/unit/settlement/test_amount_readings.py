"""No statement amount is booked unless every plausible reading of its text agrees.

An amount's text can be read with the format's decimal mark, or (Vietnamese, German
notation) with that mark grouping thousands: ``200.000`` is 200 or 200000. Each reader
(CSV, MT940, camt) either refuses the text or books the one value all readings give.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from settlement.currencies import exponent
from settlement.statements import StatementError, read_statement_file
from tests.support.statements import GenLine, write_camt053

CURRENCIES = ("VND", "JPY", "EUR")  # no minor unit, and two decimals
AMOUNTS = st.one_of(
    st.text(alphabet="0123456789.,", min_size=1, max_size=10),
    st.from_regex(r"\d{1,3}([.,]\d{3}){1,2}", fullmatch=True),
    st.from_regex(r"\d{1,6}[.,]\d{0,4}", fullmatch=True),
)


def readings(text: str, mark: str) -> set[Decimal]:
    """The values ``text`` can mean: ``mark`` as the decimal mark, or as a thousands separator."""
    found = set()
    if re.fullmatch(rf"\d+({re.escape(mark)}\d*)?|{re.escape(mark)}\d+", text):
        found.add(Decimal(text.replace(mark, ".")))
    if re.fullmatch(rf"\d{{1,3}}({re.escape(mark)}\d{{3}})+", text):
        found.add(Decimal(text.replace(mark, "")))
    return found


def _csv(text: str, currency: str) -> int:
    row = f'entry,0011004455667,{currency},"{text}",CRDT,2026-11-23\n'
    data = "record,account,currency,amount,direction,booking_date\n" + row
    return read_statement_file(io.BytesIO(data.encode())).statements[0].statement.entries[0].amount_minor


def _mt940(text: str, currency: str) -> int:
    data = (
        f":20:REF\n:25:0011004455667\n:28C:1/1\n:60F:C261122{currency}0,\n"
        f":61:2611231123C{text}NTRFFT1//B1\n:86:note\n:62F:C261123{currency}0,\n-\n"
    )
    return read_statement_file(io.BytesIO(data.encode())).statements[0].statement.entries[0].amount_minor


def _camt(text: str, currency: str) -> int:
    out = io.StringIO()
    write_camt053(out, [GenLine(1)])
    data = out.getvalue().replace('Ccy="VND">1<', f'Ccy="{currency}">{text}<').replace("VND", currency)
    return read_statement_file(io.BytesIO(data.encode())).statements[0].statement.entries[0].amount_minor


def _check(read: object, text: str, currency: str, mark: str) -> None:
    assert callable(read)
    try:
        booked = read(text, currency)
    except StatementError:
        return
    assert readings(text, mark) == {Decimal(booked).scaleb(-exponent(currency))}, (text, currency, booked)


@settings(max_examples=300, deadline=None)
@given(AMOUNTS, st.sampled_from(CURRENCIES))
@example("200.000", "VND")
@example("200.0", "VND")
@example("1.000", "EUR")
def test_csv_books_only_unambiguous_amounts(text: str, currency: str) -> None:
    _check(_csv, text, currency, ".")


@settings(max_examples=300, deadline=None)
@given(AMOUNTS, st.sampled_from(CURRENCIES))
@example("150,000", "VND")
@example("1,000", "EUR")
def test_mt940_books_only_unambiguous_amounts(text: str, currency: str) -> None:
    _check(_mt940, text, currency, ",")


@settings(max_examples=300, deadline=None)
@given(AMOUNTS.filter(lambda t: "<" not in t), st.sampled_from(CURRENCIES))
@example("200.000", "VND")
@example("2.500", "EUR")
def test_camt_books_only_unambiguous_amounts(text: str, currency: str) -> None:
    _check(_camt, text, currency, ".")


def test_csv_names_line_column_and_the_vietnamese_reading() -> None:
    with pytest.raises(StatementError) as refused:
        _csv("200.000", "VND")
    assert "CSV line 2: column amount:" in str(refused.value)
    assert "Vietnamese notation 200.000 is 200000 VND" in str(refused.value)
