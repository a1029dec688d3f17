"""Payment references: short codes that survive a trip through a bank's transfer note.

Format: ``CS`` + 13 characters of Crockford base32 (65 bits taken from the request id)
+ 1 check character = 16 upper-case letters and digits. 65 bits keep collisions out of
reach (about 1 in 10^7 after a billion payments); 16 characters fit a VietQR bill number
(tag 62-01, ≤ 25 characters), and it has no separators, so banks that strip spaces or
punctuation, upper-case the note, or add their own text before and after it leave it
recognisable. The check character (odd-weighted sum mod 32) rejects any single mistyped character
and most accidental matches; a note is searched with spaces, dots and dashes removed.
"""

from __future__ import annotations

import re
from uuid import UUID

PREFIX = "CS"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_BODY_LEN = 13
REFERENCE_LENGTH = len(PREFIX) + _BODY_LEN + 1
_CANDIDATE = re.compile(f"{PREFIX}[{_ALPHABET}]{{{_BODY_LEN + 1}}}")
_SEPARATORS = re.compile(r"[\s.\-_/,:;]+")


def _check_char(body: str) -> str:
    # Odd weights are coprime with 32, so any single substituted character changes the sum.
    total = sum((2 * i + 1) * _ALPHABET.index(c) for i, c in enumerate(body))
    return _ALPHABET[total % 32]


def make_reference(request_id: UUID) -> str:
    value = request_id.int >> (128 - 5 * _BODY_LEN)
    body = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(_BODY_LEN)))
    return f"{PREFIX}{body}{_check_char(body)}"


def valid_reference(text: str) -> bool:
    if len(text) != REFERENCE_LENGTH or not _CANDIDATE.fullmatch(text):
        return False
    body = text[len(PREFIX) : -1]
    return _check_char(body) == text[-1]


def find_reference(note: str) -> str | None:
    """The first valid reference in a transfer note, however the bank decorated it."""
    compact = _SEPARATORS.sub("", note.upper())
    for start in range(len(compact) - REFERENCE_LENGTH + 1):
        if compact.startswith(PREFIX, start):
            candidate = compact[start : start + REFERENCE_LENGTH]
            if valid_reference(candidate):
                return candidate
    return None
