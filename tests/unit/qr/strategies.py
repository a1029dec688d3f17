"""Hypothesis strategies and sample loading shared by the qr tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import assume
from hypothesis import strategies as st

from qr.tickets import HOLDER_MAX_CHARS, Ticket
from qr.vietqr import (
    ADDITIONAL_MAX_CHARS,
    AMOUNT_MAX_VND,
    CITY_MAX_CHARS,
    NAME_MAX_CHARS,
    Initiation,
    Service,
    VietQR,
)
from tests.support.fixtures import QR_FIXTURES


def fixture_lines(name: str) -> list[list[str]]:
    """Tab-separated rows of a fixture file in tests/fixtures/qr; fails loudly if it is absent."""
    path = QR_FIXTURES / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the qr tests read their samples from tests/fixtures/qr")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip()]


def digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=min_size, max_size=max_size)


def printable(max_size: int) -> st.SearchStrategy[str]:
    ascii_printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    return st.text(alphabet=ascii_printable, min_size=1, max_size=max_size)


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def vietqr_fields(draw: st.DrawFn) -> VietQR:
    """Every valid field set, including the longest values each tag allows."""
    service = draw(st.sampled_from(Service))
    account_chars = "0123456789" if service is Service.TO_CARD else _ALNUM
    additional = {
        name: draw(st.none() | printable(ADDITIONAL_MAX_CHARS)) for name in ("bill", "reference", "terminal", "purpose")
    }
    # The 62 template holds at most 99 characters, fewer than four full sub-fields.
    assume(sum(len(value) + 4 for value in additional.values() if value is not None) <= 99)
    return VietQR(
        bank_bin=draw(digits(6, 6)),
        account=draw(st.text(alphabet=account_chars, min_size=1, max_size=19)),
        service=service,
        initiation=draw(st.sampled_from(Initiation)),
        amount_vnd=draw(st.none() | st.integers(min_value=1, max_value=AMOUNT_MAX_VND)),
        mcc=draw(st.none() | digits(4, 4)),
        name=draw(st.none() | printable(NAME_MAX_CHARS)),
        city=draw(st.none() | printable(CITY_MAX_CHARS)),
        **additional,
    )


_EPOCH_2020 = datetime(2020, 1, 1, tzinfo=UTC)


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    start_s = draw(st.integers(min_value=0, max_value=60 * 60 * 24 * 365 * 20))
    length_s = draw(st.integers(min_value=1, max_value=60 * 60 * 24 * 400))
    valid_from = _EPOCH_2020 + timedelta(seconds=start_s)
    return Ticket(
        ticket_id=UUID(int=draw(st.integers(min_value=0, max_value=2**128 - 1))),
        product=draw(st.text(alphabet=_ALNUM + "._-", min_size=1, max_size=16)),
        valid_from=valid_from,
        valid_until=valid_from + timedelta(seconds=length_s),
        holder_ref=draw(st.just("") | printable(HOLDER_MAX_CHARS)),
    )
