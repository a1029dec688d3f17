"""Stage 5, bounded subset-sum: which of a day's open items add up to one batch line.

Exact subset-sum is exponential, so the search is bounded twice: by the number of
candidates and by the number of search nodes. Candidates are tried largest first and a
branch is cut as soon as the rest cannot reach the target, which finds the usual
answer (a handful of items) in a few hundred nodes. Ties go to the earliest candidates,
so the answer is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from settlement.reconciliation.match_accounts import Account
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import MatchOptions, Stage
from settlement.statements.model import Direction, Entry


def is_batch_line(entry: Entry) -> bool:
    """The bank says this line books several transactions."""
    return len(entry.details) > 1 or any((b.count or 0) > 1 for b in entry.batches)


def batch_size(entry: Entry) -> int | None:
    counts = [b.count for b in entry.batches if b.count]
    if counts:
        return sum(counts)
    return len(entry.details) if len(entry.details) > 1 else None


def find_subset(amounts: Sequence[int], target: int, *, size: int | None, max_nodes: int) -> list[int] | None:
    """Positions in ``amounts`` (positive, sorted descending) summing exactly to ``target``,
    with exactly ``size`` of them when given; None when absent or the budget runs out."""
    if target <= 0 or not amounts:
        return None
    suffix = [0] * (len(amounts) + 1)
    for position in range(len(amounts) - 1, -1, -1):
        suffix[position] = suffix[position + 1] + amounts[position]
    if suffix[0] < target:
        return None
    chosen: list[int] = []
    nodes = 0

    def search(start: int, remaining: int) -> bool:
        nonlocal nodes
        if remaining == 0:
            return size is None or len(chosen) == size
        if size is not None and len(chosen) >= size:
            return False
        for position in range(start, len(amounts)):
            nodes += 1
            if nodes > max_nodes or suffix[position] < remaining:
                return False
            amount = amounts[position]
            if amount > remaining:
                continue
            chosen.append(position)
            if search(position + 1, remaining - amount):
                return True
            chosen.pop()
        return False

    return list(chosen) if search(0, target) else None


def find_pair(amounts: Sequence[int], target: int) -> list[int] | None:
    """Two positions whose amounts add up to ``target``: the earliest such pair."""
    seen: dict[int, int] = {}
    for position, amount in enumerate(amounts):
        other = seen.get(target - amount)
        if other is not None:
            return [other, position]
        seen.setdefault(amount, position)
    return None


def match_by_subset_sum(book: Book, account: Account, options: MatchOptions) -> None:
    """Stage 5: a line the bank marks as a batch (several TxDtls, Btch/NbOfTxs > 1)
    without ids we know: the same day's open items of its direction that add up to it."""
    entries, items = book.entries, book.items
    pools: dict[tuple[date, str, Direction], list[int]] = {}
    for i in account.items:
        if book.item_open(i):
            item = items[i]
            pools.setdefault((item.booking_date, item.currency, item.direction), []).append(i)
    for line in account.open_lines(book):
        entry = entries[line]
        if not book.line_open(line) or entry.reversal or entry.booking_date is None or not is_batch_line(entry):
            continue
        pool = [i for i in pools.get((entry.booking_date, entry.currency, entry.direction), ()) if book.item_open(i)]
        pool = [i for i in pool if items[i].amount_minor <= entry.amount_minor]
        pool.sort(key=lambda i: (-items[i].amount_minor, i))
        size = batch_size(entry)
        if size == 2:  # exact in linear time over the whole pool: no cap needed
            found = find_pair([items[i].amount_minor for i in pool], entry.amount_minor)
        else:
            pool = pool[: options.subset_max_candidates]
            amounts = [items[i].amount_minor for i in pool]
            found = find_subset(amounts, entry.amount_minor, size=size, max_nodes=options.subset_max_nodes)
        if found is not None:
            book.match(Stage.SUBSET_SUM, (line,), sorted(pool[p] for p in found))
