"""Money in Vietnamese đồng: whole integers only (VND has no minor unit in use).

Invariants: an amount is an ``int`` (never ``bool`` or ``float``) within
``±MAX_VND``; arithmetic stays exact; splitting a total always sums back to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.model.errors import InvalidValue

CURRENCY = "VND"
ISO_NUMERIC = "704"
# Far above any single payment or daily settlement of a city, far below int64 limits.
MAX_VND = 10**15


def checked_vnd(amount: object, *, name: str = "amount_vnd", allow_negative: bool = False) -> int:
    """Validate an amount of đồng coming from outside; return it as ``int``."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidValue(f"{name} must be an integer number of đồng, got {type(amount).__name__}")
    low = -MAX_VND if allow_negative else 0
    if not low <= amount <= MAX_VND:
        raise InvalidValue(f"{name} must be between {low} and {MAX_VND}, got {amount}")
    return amount


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount_vnd: int

    def __post_init__(self) -> None:
        checked_vnd(self.amount_vnd, allow_negative=True)

    def __add__(self, other: Money) -> Money:
        return Money(self.amount_vnd + other.amount_vnd)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount_vnd - other.amount_vnd)

    def __str__(self) -> str:
        return f"{self.amount_vnd:,} {CURRENCY}".replace(",", ".")  # Vietnamese grouping: 25.000 VND


def allocate(total_vnd: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_vnd`` in proportion to ``weights`` (largest-remainder method).

    The parts sum exactly to the total; ties in the remainders go to the earlier part,
    so the result is deterministic.
    """
    checked_vnd(total_vnd)
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise InvalidValue("weights must be non-negative with a positive sum")
    whole = sum(weights)
    parts = [total_vnd * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total_vnd * weights[i] % whole), i))
    for i in remainders[: total_vnd - sum(parts)]:
        parts[i] += 1
    return parts
