"""Stage 6: whatever is still open. A repeat of another open line is a duplicate, the
rest is missing on the other side.
"""

from __future__ import annotations

from settlement.reconciliation.match_accounts import Account
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import Category, MatchOptions
from settlement.reconciliation.reasons import LineRef, Reason, reason
from settlement.reconciliation.stages.ids import line_ids
from settlement.statements.model import Entry


def close_leftovers(book: Book, account: Account, options: MatchOptions) -> None:
    """Whatever is still open: a repeat of another open line is a duplicate, the rest is
    missing on the other side."""
    entries = book.entries
    seen: dict[tuple[object, ...], int] = {}
    for line in account.open_lines(book):
        if not book.line_open(line):
            continue
        entry = entries[line]
        ids = tuple(line_ids(entry))
        signature = (*ids, entry.direction, entry.amount_minor, entry.currency)
        if ids and signature in seen:
            first = seen[signature]
            book.case(Category.DUPLICATE, reason("repeats ", LineRef(first)), [line], [], related_lines=[first])
            continue
        if ids:
            seen[signature] = line
        book.case(Category.MISSING_IN_LEDGER, _missing_reason(entry, account, options), [line], [])
    for item in account.items:
        if book.item_open(item):
            book.case(Category.MISSING_IN_BANK, reason("not on the statement"), [], [item])


def _missing_reason(entry: Entry, account: Account, options: MatchOptions) -> Reason:
    if entry.currency != account.currency:
        return reason(f"booked in {entry.currency}; the ledger account is in {account.currency}")
    return reason(
        f"no ledger item with its ids or payment reference, nor of its amount within {options.date_tolerance_days} days"
    )
