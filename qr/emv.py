"""EMVCo merchant-presented TLV framing and the CRC that closes every payload.

Each data object is ``TT LL V``: a two-digit tag, a two-digit decimal length and a value
of exactly that many characters (so at most 99). Templates (tags 26-51 and 62) nest the
same framing inside their value. The payload ends with tag 63, a CRC-16/CCITT-FALSE
(poly 0x1021, init 0xFFFF, no reflection, no final xor) over every character before the
CRC value, including the ``6304`` header itself.
"""

from __future__ import annotations

import binascii
import re

from qr.errors import ChecksumMismatch, InvalidField, MalformedPayload

MAX_VALUE_CHARS = 99
# EMVCo caps a whole merchant-presented payload at 512 characters.
MAX_PAYLOAD_CHARS = 512
CRC_TAG = "63"
CRC_HEADER = "6304"

_CRC_VALUE = re.compile(r"[0-9A-F]{4}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE of ``text`` as 4 upper-case hex digits, leading zeros kept."""
    # crc_hqx is CRC-CCITT with poly 0x1021 and no reflection; seeding it with 0xFFFF
    # makes it exactly CCITT-FALSE, computed in C (the pure-Python loop was 10x slower).
    # "surrogatepass": a scanned payload may hold a lone surrogate; it must fail the CRC
    # check like any other changed character, not escape as a UnicodeEncodeError.
    return f"{binascii.crc_hqx(text.encode('utf-8', 'surrogatepass'), 0xFFFF):04X}"


def tlv(tag: str, value: str) -> str:
    """One data object; ``tag`` is a two-digit constant, ``value`` already checked."""
    if not 0 < len(value) <= MAX_VALUE_CHARS:
        raise InvalidField(tag, f"value must be 1..{MAX_VALUE_CHARS} characters, got {len(value)}")
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Appends tag 63 to ``body``."""
    framed = body + CRC_HEADER
    return framed + crc16(framed)


def parse(text: str, path: str = "") -> dict[str, str]:
    """Splits ``text`` into its data objects, in order.

    ``path`` is the enclosing template's tag path with a trailing dot (``"38."``), or
    empty at the root; it prefixes tags in errors.

    Rejects non-digit tags or lengths, empty values, values that overrun the text and
    repeated tags, naming the offending tag.
    """
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        tag = text[position : position + 2]
        if not _TWO_DIGITS.fullmatch(tag):
            # No tag to name here, so name the template that holds the bad bytes.
            raise MalformedPayload(path.rstrip("."), f"expected a two-digit tag at offset {position}, got {tag!r}")
        where = f"{path}{tag}"
        length_text = text[position + 2 : position + 4]
        if not _TWO_DIGITS.fullmatch(length_text):
            raise MalformedPayload(where, f"expected a two-digit length, got {length_text!r}")
        length = int(length_text)
        start = position + 4
        if length == 0:
            raise MalformedPayload(where, "length 00: a present field must have a value")
        if start + length > len(text):
            left = len(text) - start
            raise MalformedPayload(where, f"length {length:02d} overruns the {left} characters left")
        if tag in fields:
            raise MalformedPayload(where, "appears more than once")
        fields[tag] = text[start : start + length]
        position = start + length
    return fields


def check_crc(payload: str, fields: dict[str, str]) -> None:
    """Verifies tag 63 is last, well-formed and matches; ``fields`` is ``parse(payload)``."""
    if CRC_TAG not in fields:
        raise MalformedPayload(CRC_TAG, "missing: a payload must end with its CRC")
    if next(reversed(fields)) != CRC_TAG:
        raise MalformedPayload(CRC_TAG, "must be the last data object")
    stated = fields[CRC_TAG]
    if len(stated) != 4:
        raise MalformedPayload(CRC_TAG, f"length must be 04, got {len(stated):02d}")
    # Upper case is what the specification prints; accepting lower case would let a
    # one-character change ('C' -> 'c') pass undetected and break byte-exact re-encoding.
    if not _CRC_VALUE.fullmatch(stated):
        raise InvalidField(CRC_TAG, f"must be 4 upper-case hex digits, got {stated!r}")
    computed = crc16(payload[:-4])
    if stated != computed:
        raise ChecksumMismatch(stated, computed)
