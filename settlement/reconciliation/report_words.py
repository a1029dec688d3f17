"""How report.html writes for a finance clerk in Hanoi: amounts and counts in the
Vietnamese style (``200.000 ₫``, ``1.234,50 CHF``), category names in words (Vietnamese
first, the code's English beside), and counted nouns in the singular or plural.
report.json and report.csv keep plain integers and codes: they are read by programs.
"""

from __future__ import annotations

from html import escape

from settlement.currencies import exponent
from settlement.reconciliation.outcomes import Category

NBSP = "\u00a0"  # keeps an amount and its currency on one line
CATEGORY_WORDS: dict[Category, tuple[str, str]] = {
    Category.MATCHED: ("Đã khớp", "matched"),
    Category.MISSING_IN_BANK: ("Thiếu trên sao kê ngân hàng", "missing in bank"),
    Category.MISSING_IN_LEDGER: ("Thiếu trong sổ cái", "missing in ledger"),
    Category.AMOUNT_MISMATCH: ("Lệch số tiền", "amount mismatch"),
    Category.DUPLICATE: ("Trùng lặp", "duplicate"),
    Category.REVERSED: ("Bị hoàn trả", "reversed"),
}


def group(number: int) -> str:
    """Thousands grouped by points, as Vietnamese writes them: 1234567 -> ``1.234.567``."""
    return f"{number:,}".replace(",", ".")


def amount(amount_minor: int, currency: str) -> str:
    """``200.000 ₫`` for đồng; other currencies with a decimal comma: ``-1.234,50 CHF``."""
    digits = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    text = f"{sign}{group(whole)}" + (f",{fraction:0{digits}d}" if digits else "")
    return f"{text}{NBSP}{'₫' if currency == 'VND' else escape(currency)}"


def category_label(category: Category) -> str:
    """HTML: the Vietnamese name, then the English one."""
    vi, en = CATEGORY_WORDS[category]
    return f'<span lang="vi">{escape(vi)}</span> <span class=en lang="en">({escape(en)})</span>'


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 entry``, ``2 entries``, ``1.000 open exceptions``."""
    return f"{group(count)} {singular if count == 1 else plural or singular + 's'}"
