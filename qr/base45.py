"""Base45 (RFC 9285): bytes as text in the QR alphanumeric character set.

QR alphanumeric mode spends 5.5 bits per character and base45 needs 1.5 characters per
byte, so a signed ticket costs about 8.3 bits per byte in the symbol, against about
10.7 for base64url, which forces byte mode. Fewer bits, a smaller symbol, a faster scan.

Decoding is strict: every text has exactly one byte string, so a changed character can
never decode to the same bytes (the signature check relies on it).
"""

from __future__ import annotations

import struct

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
# Byte -> digit value table for bytes.translate: the per-character work then runs in C,
# which keeps ticket verification dominated by the signature check, not by decoding.
_DIGITS = bytes(ALPHABET.index(chr(byte)) if chr(byte) in ALPHABET else _INVALID for byte in range(256))


class Base45Error(ValueError):
    """The text is not canonical base45."""


def b45encode(data: bytes) -> str:
    alphabet = ALPHABET
    pairs = struct.unpack(f">{len(data) // 2}H", data[: len(data) - len(data) % 2])
    chars: list[str] = []
    for value in pairs:
        rest, c = divmod(value, 45)
        e, d = divmod(rest, 45)
        chars += (alphabet[c], alphabet[d], alphabet[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        chars += (alphabet[c], alphabet[d])
    return "".join(chars)


def b45decode(text: str) -> bytes:
    """The bytes of ``text``; raises ``Base45Error`` for any non-canonical input."""
    if len(text) % 3 == 1:
        raise Base45Error(f"length {len(text)} leaves a lone character")
    if not text.isascii():
        raise Base45Error("contains a character outside ASCII")
    digits = text.encode("ascii").translate(_DIGITS)
    if _INVALID in digits:
        bad = text[digits.index(_INVALID)]
        raise Base45Error(f"{bad!r} is not a base45 character")
    whole = len(digits) - len(digits) % 3
    values = [
        c + d * 45 + e * 2025 for c, d, e in zip(digits[0:whole:3], digits[1:whole:3], digits[2:whole:3], strict=True)
    ]
    if values and max(values) > 0xFFFF:
        raise Base45Error("a three-character group encodes more than 65535")
    out = struct.pack(f">{len(values)}H", *values)
    if whole == len(digits):
        return out
    last = digits[whole] + digits[whole + 1] * 45
    if last > 0xFF:
        raise Base45Error(f"final pair encodes {last}, above 255")
    return out + bytes((last,))
