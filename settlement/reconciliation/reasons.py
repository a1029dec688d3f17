"""Why the engine put a case in its category, kept with its amounts and line numbers as
values, so each report writes them its own way: report.json and report.csv as plain
integers (``bank 199000 VND``), report.html the Vietnamese way (``bank 199.000 ₫``).

Statement lines are named by their number in the run, counted from 1 like the cases
(``repeats line 1`` is the first line); the engine itself indexes them from 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from settlement.currencies import format_minor


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str


def line_number(index: int) -> int:
    """The number reports give the line at engine index ``index``: one numbering with the cases."""
    return index + 1


@dataclass(frozen=True, slots=True)
class LineRef:
    index: int  # the engine's 0-based index; shown as its `line_number`

    @property
    def number(self) -> int:
        return line_number(self.index)


def _plain_money(money: Money) -> str:
    return f"{format_minor(money.minor, money.currency)} {money.currency}"


def _plain_text(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Reason:
    parts: tuple[str | Money | LineRef, ...]

    def render(
        self,
        money: Callable[[Money], str] = _plain_money,
        text: Callable[[str], str] = _plain_text,
    ) -> str:
        """The parts joined, amounts through ``money`` and words through ``text`` (HTML
        escapes them); a line as ``line N``."""
        return "".join(
            money(p) if isinstance(p, Money) else text(f"line {p.number}") if isinstance(p, LineRef) else text(p)
            for p in self.parts
        )

    def __str__(self) -> str:
        return self.render()


def reason(*parts: str | Money | LineRef) -> Reason:
    return Reason(parts)
