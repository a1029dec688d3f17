"""One bank account's statement lines and ledger items, its items indexed by the keys
the stages look them up by: ids, batch ids, payment references.

Ids shorter than `MIN_ID_LENGTH` are ignored, on either side: "1" or "001" would tie
unrelated lines. The index is built once per account (a day has a million items);
the keys a statement line carries are read by the stage that uses them
(`settlement.reconciliation.stages`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from settlement.reconciliation.ledger_items import LedgerItem
from settlement.reconciliation.match_book import Book

MIN_ID_LENGTH = 4


@dataclass
class Account:
    """One bank account's statement lines and ledger items (global indexes)."""

    number: str
    currency: str
    lines: list[int]
    items: list[int]
    index: LedgerIndex

    def open_lines(self, book: Book) -> list[int]:
        """Lines still open; the later stages see a few percent of a day, not all of it."""
        categories = book.line_categories
        return [line for line in self.lines if not categories[line]]


class LedgerIndex:
    """Ledger items by id, batch id and payment reference.

    An item whose bank transaction id, amount and direction repeat an earlier item's is
    a duplicate booking: it is reported, not indexed, so it cannot soak up a line.
    """

    def __init__(self, items: Sequence[LedgerItem], indexes: Sequence[int]) -> None:
        self.by_id: dict[str, int | list[int]] = {}
        self.by_batch: dict[str, list[int]] = {}
        self.by_reference: dict[str, list[int]] = {}
        self.duplicates: list[tuple[int, int]] = []  # (duplicate item, the item it repeats)
        by_id = self.by_id
        for index in indexes:
            item = items[index]
            tx, e2e = item.bank_tx_id, item.end_to_end_id
            if tx is not None and len(tx) >= MIN_ID_LENGTH:
                found = by_id.get(tx)
                if found is None:
                    by_id[tx] = index
                else:
                    earlier = _same_transaction(items, found, item)
                    if earlier is not None:
                        self.duplicates.append((index, earlier))
                        continue
                    self._add_id(tx, index)
            if e2e is not None and len(e2e) >= MIN_ID_LENGTH:
                if e2e in by_id:
                    self._add_id(e2e, index)
                else:
                    by_id[e2e] = index
            if item.batch_id is not None:
                self.by_batch.setdefault(item.batch_id, []).append(index)
            if item.payment_reference is not None:
                self.by_reference.setdefault(item.payment_reference, []).append(index)

    def _add_id(self, key: str, index: int) -> None:
        found = self.by_id[key]
        if isinstance(found, int):
            if found != index:
                self.by_id[key] = [found, index]
        elif index not in found:
            found.append(index)


def _same_transaction(items: Sequence[LedgerItem], found: int | list[int], item: LedgerItem) -> int | None:
    """The earlier item with the same bank transaction id and movement, if any."""
    for earlier in (found,) if isinstance(found, int) else found:
        other = items[earlier]
        if other.bank_tx_id == item.bank_tx_id and _same_movement(other, item):
            return earlier
    return None


def _same_movement(first: LedgerItem, second: LedgerItem) -> bool:
    return (first.direction, first.amount_minor, first.currency) == (
        second.direction,
        second.amount_minor,
        second.currency,
    )
