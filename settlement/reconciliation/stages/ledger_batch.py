"""Stage 4: one line equal to the total of one of our open batches (an acquirer's daily
credit, a payout file) within the date window.
"""

from __future__ import annotations

from settlement.reconciliation.match_accounts import Account
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import MatchOptions, Stage


def match_by_ledger_batch(book: Book, account: Account, options: MatchOptions) -> None:
    """Stage 4: one line equal to the total of one of our open batches (an acquirer's
    daily credit, a payout file) within the date window."""
    items = book.items
    totals: dict[tuple[str, int], list[list[int]]] = {}
    for members in account.index.by_batch.values():
        if len(members) > 1 and all(book.item_open(i) for i in members):
            currency = items[members[0]].currency
            if all(items[i].currency == currency for i in members):
                totals.setdefault((currency, sum(items[i].signed_minor for i in members)), []).append(members)
    if not totals:
        return
    for line in account.open_lines(book):
        entry = book.entries[line]
        when = entry.booking_date or entry.value_date
        if not book.line_open(line) or entry.reversal or when is None:
            continue
        for members in totals.get((entry.currency, entry.signed_minor), ()):
            near = min(abs((items[i].booking_date - when).days) for i in members)
            if near <= options.date_tolerance_days and all(book.item_open(i) for i in members):
                book.match(Stage.LEDGER_BATCH, (line,), members)
                break
