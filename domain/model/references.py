"""Payment references: short codes that survive a trip through a bank's transfer note.

Format: ``CS`` + 13 characters of Crockford base32 (65 bits) + 1 check character = 16
upper-case letters and digits. 16 characters fit a VietQR bill number (tag 62-01, ≤ 25
characters), and it has no separators, so banks that strip spaces or punctuation,
upper-case the note, or add their own text before and after it leave it recognisable.
The check character (odd-weighted sum mod 32) rejects any single mistyped character and
most accidental matches; a note is searched with spaces, dots and dashes removed.

All 65 body bits vary: they are the first 65 bits of SHA-256 over the request id (and
an attempt number), so the request id's fixed bits (a UUID's version and variant) carry
no weight. The birthday bound for n references over N = 2^65 values is
p = 1 - exp(-n(n-1)/2N): about 1.4e-6 after 10^7 payments and 1.3 % (0.0135) after
10^9 payments (with the 60 varying bits of the first scheme: 4.3e-5 and 35 %). A collision does not
block a payment: `make_reference` takes an attempt number, and the use case that creates
payments moves on to the next attempt when a reference is already taken by another one.

References made by the first scheme (`legacy_reference`: the request id's top 65 bits)
have the same format, so stored ones stay valid, are found in notes the same way and
name the same payment.
"""

from __future__ import annotations

import hashlib
import re
from uuid import UUID

PREFIX = "CS"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_BODY_LEN = 13
_BODY_BITS = 5 * _BODY_LEN
REFERENCE_LENGTH = len(PREFIX) + _BODY_LEN + 1
_CANDIDATE = re.compile(f"{PREFIX}[{_ALPHABET}]{{{_BODY_LEN + 1}}}")
_SEPARATORS = re.compile(r"[\s.\-_/,:;]+")
_DOMAIN = b"citysettle/payment-reference/"


def _check_char(body: str) -> str:
    # Odd weights are coprime with 32, so any single substituted character changes the sum.
    total = sum((2 * i + 1) * _ALPHABET.index(c) for i, c in enumerate(body))
    return _ALPHABET[total % 32]


def _encode(value: int) -> str:
    body = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(_BODY_LEN)))
    return f"{PREFIX}{body}{_check_char(body)}"


def make_reference(request_id: UUID, attempt: int = 0) -> str:
    """The reference of a request's payment; ``attempt`` > 0 names the next candidate
    when an earlier one is taken (see the module docstring)."""
    digest = hashlib.sha256(_DOMAIN + request_id.bytes + attempt.to_bytes(4, "big")).digest()
    return _encode(int.from_bytes(digest, "big") >> (256 - _BODY_BITS))


def legacy_reference(request_id: UUID) -> str:
    """The reference the first scheme gave a request (60 varying bits); only to find
    payments created under it."""
    return _encode(request_id.int >> (128 - _BODY_BITS))


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
