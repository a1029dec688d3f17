"""Stage 3: a line and an item of the same currency, direction and amount, booked within
the date tolerance; the nearest date wins, then the earliest item.
"""

from __future__ import annotations

from settlement.reconciliation.match_accounts import Account
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import MatchOptions, Stage


def match_by_amount_date(book: Book, account: Account, options: MatchOptions) -> None:
    """Stage 3: same currency, direction and amount, booked within the tolerance; the
    nearest date wins, then the earliest item."""
    items = book.items
    buckets: dict[tuple[str, int], list[int]] = {}
    for i in sorted((i for i in account.items if book.item_open(i)), key=lambda i: (items[i].booking_date, i)):
        buckets.setdefault((items[i].currency, items[i].signed_minor), []).append(i)
    tolerance = options.date_tolerance_days
    for line in account.open_lines(book):
        entry = book.entries[line]
        when = entry.booking_date or entry.value_date
        if not book.line_open(line) or entry.reversal or when is None:
            continue
        bucket = buckets.get((entry.currency, entry.signed_minor))
        if not bucket:
            continue
        while bucket and not book.item_open(bucket[0]):
            bucket.pop(0)
        best, best_gap = -1, tolerance + 1
        for i in bucket:
            gap = (items[i].booking_date - when).days
            if gap > tolerance:
                break
            if book.item_open(i) and abs(gap) < best_gap:
                best, best_gap = i, abs(gap)
        if best >= 0:
            book.match(Stage.AMOUNT_DATE, (line,), (best,))
