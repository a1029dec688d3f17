from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qr.base45 import ALPHABET, Base45Error, b45decode, b45encode


@pytest.mark.parametrize(
    ("data", "text"),
    [  # RFC 9285 section 4.3 examples, plus the edges of the value range
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
        (b"", ""),
        (b"\xff\xff", "FGW"),
        (b"\xff", "U5"),
        (b"\x00\x00", "000"),
    ],
)
def test_known_vectors(data: bytes, text: str) -> None:
    assert b45encode(data) == text
    assert b45decode(text) == data


@given(st.binary(max_size=300))
def test_decode_inverts_encode(data: bytes) -> None:
    assert b45decode(b45encode(data)) == data


@given(st.text(alphabet=ALPHABET, max_size=30))
def test_every_accepted_text_is_canonical(text: str) -> None:
    try:
        data = b45decode(text)
    except Base45Error:
        return
    assert b45encode(data) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A", "lone character"),
        ("GGW", "65535"),
        (":::", "65535"),
        ("V5", "above 255"),
        ("ab8", "'a' is not"),
        ("BB8é5", "outside ASCII"),
    ],
)
def test_rejects_non_canonical_text(text: str, message: str) -> None:
    with pytest.raises(Base45Error, match=message):
        b45decode(text)
