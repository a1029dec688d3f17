from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qr.emv import check_crc, crc16, parse, tlv, with_crc
from qr.errors import ChecksumMismatch, InvalidField, MalformedPayload


def test_crc_is_ccitt_false_check_value() -> None:
    # The catalogue check value of CRC-16/CCITT-FALSE for "123456789".
    assert crc16("123456789") == "29B1"
    assert crc16("") == "FFFF"


def test_crc_keeps_leading_zeros() -> None:
    assert crc16("x44") == "02B3"


@given(st.text())
def test_crc_is_always_four_upper_case_hex_digits(text: str) -> None:
    assert re.fullmatch(r"[0-9A-F]{4}", crc16(text))


def test_tlv_frames_value_with_two_digit_length() -> None:
    assert tlv("58", "VN") == "5802VN"
    assert tlv("62", "x" * 99) == "6299" + "x" * 99


@pytest.mark.parametrize("value", ["", "x" * 100])
def test_tlv_rejects_empty_or_too_long_value_naming_the_tag(value: str) -> None:
    with pytest.raises(InvalidField, match=r"^tag 59: ") as caught:
        tlv("59", value)
    assert caught.value.tag == "59"


def test_parse_keeps_order_and_values() -> None:
    assert list(parse("0002010102115802VN").items()) == [("00", "01"), ("01", "11"), ("58", "VN")]


@pytest.mark.parametrize(
    ("text", "path", "tag", "message"),
    [
        ("0A02xx", "", "", "two-digit tag"),
        ("00x201", "", "00", "two-digit length"),
        ("0005abc", "", "00", "overruns"),
        ("0000", "", "00", "length 00"),
        ("0001000011", "", "00", "more than once"),
        ("0002ab01", "38.", "38.01", "two-digit length"),
        ("0002abZZ", "38.01.", "38.01", "two-digit tag"),
    ],
)
def test_parse_errors_name_the_tag(text: str, path: str, tag: str, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message) as caught:
        parse(text, path)
    assert caught.value.tag == tag


def test_check_crc_accepts_what_with_crc_wrote() -> None:
    payload = with_crc("000201")
    check_crc(payload, parse(payload))


def test_check_crc_reports_both_values() -> None:
    payload = with_crc("000201")
    wrong = payload[:-4] + ("0000" if payload[-4:] != "0000" else "1111")
    with pytest.raises(ChecksumMismatch) as caught:
        check_crc(wrong, parse(wrong))
    assert caught.value.computed == payload[-4:]
    assert caught.value.stated == wrong[-4:]
    assert caught.value.tag == "63"


def test_check_crc_requires_tag_63_last() -> None:
    body = with_crc("000201") + "5802VN"
    with pytest.raises(MalformedPayload, match="last"):
        check_crc(body, parse(body))
    with pytest.raises(MalformedPayload, match="missing"):
        check_crc("000201", parse("000201"))


def test_check_crc_requires_length_four() -> None:
    payload = "0002016303ABC"
    with pytest.raises(MalformedPayload, match="length must be 04"):
        check_crc(payload, parse(payload))


def test_check_crc_rejects_lower_case_hex() -> None:
    payload = with_crc("0002010102115802VN")
    lowered = payload[:-4] + payload[-4:].lower()
    if lowered == payload:  # a CRC of digits only has no lower case form
        lowered = payload[:-4] + "abcd"
    with pytest.raises(InvalidField, match="upper-case hex"):
        check_crc(lowered, parse(lowered))
