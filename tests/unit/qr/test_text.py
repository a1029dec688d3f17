from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qr.text import clean_text

SAFE = re.compile(r"[A-Za-z0-9.\-]+(?: [A-Za-z0-9.\-]+)*")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ủng hộ lũ lụt", "ung ho lu lut"),
        ("ĐẶNG THỊ ĐÀO", "DANG THI DAO"),
        ("Phường Bến Nghé, Q.1", "Phuong Ben Nghe Q.1"),
        ("u\u0309ng ho\u0323", "ung ho"),  # already decomposed input
        ("ＨĐ１２３", "HD123"),  # full-width compatibility forms
        ("a & b # c % d @ e", "a b c d e"),
        ("  gen   by\tgo-vietqr\n", "gen by go-vietqr"),
        ("😀🚌", None),
        ("", None),
    ],
)
def test_clean_text_examples(text: str, expected: str | None) -> None:
    assert clean_text(text, 25) == expected


def test_cut_never_leaves_a_trailing_space() -> None:
    assert clean_text("Ho Chi Minh City", 12) == "Ho Chi Minh"


@given(st.text(), st.integers(min_value=1, max_value=99))
def test_output_is_safe_short_and_stable(text: str, limit: int) -> None:
    cleaned = clean_text(text, limit)
    if cleaned is None:
        return
    assert SAFE.fullmatch(cleaned)
    assert len(cleaned) <= limit
    assert clean_text(cleaned, limit) == cleaned
