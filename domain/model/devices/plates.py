"""Licence plates as cameras and keypads report them, reduced to one canonical form.

The same car is read as ``29A-123.45``, ``29a12345``, ``29A 123 45`` or ``29A-12345``
by different devices; entries and exits only meet when every reading of one plate gives
one string. The canonical form depends only on the plate's letters and digits (case,
spaces, dashes and dots are noise), so any two readings that differ in those alone agree.

Vietnamese plates (Circular 24/2023/TT-BCA) are a two-digit province code, a series of
one or two letters (cars) or a letter and a digit (motorbikes), and a four- or five-digit
number, written ``29A-123.45`` / ``29B1-123.45`` / ``30E-1234``. Without separators a
five-digit car number and a four-digit motorbike number can look alike (``29B11234``):
the five-digit reading wins, since it is the current format, and both readings of that
string still give the same canonical form. Other plates (foreign, diplomatic formats we
do not parse) keep their letters and digits in upper case.
"""

from __future__ import annotations

import re
import string
import unicodedata

from domain.model.errors import InvalidValue

MIN_PLATE_CHARS = 4
MAX_PLATE_CHARS = 12
_KEPT = frozenset(string.ascii_uppercase + string.digits)
# Tried in order: the current five-digit numbers first (see the module docstring).
_VIETNAMESE = tuple(
    re.compile(pattern)
    for pattern in (
        r"(\d{2})([A-Z]{1,2})(\d{5})",
        r"(\d{2})([A-Z]\d)(\d{5})",
        r"(\d{2})([A-Z]{1,2})(\d{4})",
        r"(\d{2})([A-Z]\d)(\d{4})",
    )
)


class UnreadablePlate(InvalidValue):
    code = "unreadable-plate"


def plate_characters(raw: str) -> str:
    """The plate's letters and digits, upper case (``Đ`` and other marks folded to ASCII)."""
    folded = unicodedata.normalize("NFKD", raw.replace("đ", "d").replace("Đ", "D")).upper()
    return "".join(ch for ch in folded if ch in _KEPT)


def normalise_plate(raw: str) -> str:
    """The canonical form of a reported plate, or `UnreadablePlate`."""
    chars = plate_characters(raw)
    for pattern in _VIETNAMESE:
        found = pattern.fullmatch(chars)
        if found is not None:
            province, series, number = found.groups()
            shown = f"{number[:3]}.{number[3:]}" if len(number) == 5 else number
            return f"{province}{series}-{shown}"
    if not MIN_PLATE_CHARS <= len(chars) <= MAX_PLATE_CHARS:
        raise UnreadablePlate(f"plate {raw!r} has no {MIN_PLATE_CHARS}-{MAX_PLATE_CHARS} letters and digits")
    return chars
