"""Stage 7, the last: cases a finance user has resolved, with what their resolution booked.

A resolution's ledger items (a write-off, a refund owed; `LedgerItem.resolves`) never
appear on a statement, so the other stages do not see them. Here they join the case they
resolve, which is known by its lines and items (`settlement.reconciliation.case_keys`): that case is
settled, keeps its category and carries the resolution's description, and with the
items it booked its two sides agree. A resolution item whose case this run does not
show (another period, or lines that arrived since) is a settled case of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from settlement.reconciliation.case_keys import case_key
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import CATEGORIES, Category
from settlement.reconciliation.reasons import reason


def close_resolved(
    book: Book, set_aside: Sequence[int], resolved: Mapping[str, str], line_name: Callable[[int], str] | None
) -> None:
    """``resolved`` maps case keys to how they were resolved; ``line_name`` gives a line's
    lasting name (None when the statements have no identities: no case can be recognised)."""
    items = book.items
    booked: dict[str, list[int]] = {}
    for item in set_aside:
        booked.setdefault(str(items[item].resolves), []).append(item)
    if resolved and line_name is not None:
        for number, case in enumerate(book.cases):
            if case.settled:
                continue
            key = case_key((line_name(line) for line in case.lines), (items[i].item_id for i in case.items))
            if key not in resolved:
                continue
            own = booked.pop(key, [])
            code = CATEGORIES.index(case.category) + 1
            for item in own:
                book.item_categories[item] = code
            book.cases[number] = dataclasses.replace(
                case, items=(*case.items, *own), settled=True, resolution=resolved[key]
            )
    for key, own in booked.items():
        how = resolved.get(key, key)
        book.case(
            Category.MISSING_IN_BANK,
            reason("booked by a resolution whose case is not in this reconciliation"),
            [],
            own,
            settled=True,
            resolution=how,
        )
