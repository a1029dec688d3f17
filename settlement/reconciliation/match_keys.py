"""The keys that tie a statement line to ledger items: ids, batch ids, payment references.

Ids shorter than `MIN_ID_LENGTH` are ignored: "1" or "001" would tie unrelated lines.
A payment reference is looked for in every free text of the line. Banks decorate notes
(``MBVCB.123.CS28T5CY4GNF6YYS.le phi``) — `find_reference` handles that — and cut long notes
short, so when no whole reference is found, the longest run of at least
``min_prefix`` characters after ``CS`` that is the prefix of exactly one open ledger
item's reference counts as that reference. Uniqueness is what makes a prefix safe.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from domain.model.references import PREFIX, REFERENCE_LENGTH, find_reference
from settlement.reconciliation.ledger_items import LedgerItem
from settlement.statements.model import Entry

MIN_ID_LENGTH = 4
_SEPARATORS = re.compile(r"[\s.\-_/,:;]+")  # as `find_reference` compacts a note


def line_ids(entry: Entry) -> list[str]:
    """The bank's and the payer's ids of a line, without repeats, in a fixed order."""
    ids = [v for v in (entry.acct_svcr_ref, entry.entry_ref) if v and len(v) >= MIN_ID_LENGTH]
    for detail in entry.details:
        for value in (detail.acct_svcr_ref, detail.tx_id, detail.uetr, detail.end_to_end_id):
            if value and len(value) >= MIN_ID_LENGTH and value not in ids:
                ids.append(value)
    if len(ids) == 2 and ids[0] == ids[1]:
        del ids[1]
    return ids


def line_batch_ids(entry: Entry) -> list[str]:
    ids: list[str] = []
    for batch in entry.batches:
        for value in (batch.payment_info_id, batch.message_id):
            if value and len(value) >= MIN_ID_LENGTH and value not in ids:
                ids.append(value)
    return ids


def line_texts(entry: Entry) -> list[str]:
    texts = [t for d in entry.details for t in (d.remittance, d.creditor_reference, d.additional_info) if t]
    if entry.additional_info:
        texts.append(entry.additional_info)
    return texts


def is_batch_line(entry: Entry) -> bool:
    """The bank says this line books several transactions."""
    return len(entry.details) > 1 or any((b.count or 0) > 1 for b in entry.batches)


def batch_size(entry: Entry) -> int | None:
    counts = [b.count for b in entry.batches if b.count]
    if counts:
        return sum(counts)
    return len(entry.details) if len(entry.details) > 1 else None


class OpenReferences:
    """Sorted payment references of the items still open, for prefix look-ups."""

    def __init__(self, references: Sequence[str]) -> None:
        self._sorted = sorted(set(references))

    def unique_prefix(self, prefix: str) -> str | None:
        position = bisect_left(self._sorted, prefix)
        if position == len(self._sorted) or not self._sorted[position].startswith(prefix):
            return None
        if position + 1 < len(self._sorted) and self._sorted[position + 1].startswith(prefix):
            return None  # two open references share it: ambiguous
        return self._sorted[position]


def find_line_reference(texts: Sequence[str], open_references: OpenReferences, min_prefix: int) -> str | None:
    for text in texts:
        compact = _SEPARATORS.sub("", text.upper())
        if PREFIX not in compact:
            continue
        whole = find_reference(text)
        if whole is not None:
            return whole
        start = compact.find(PREFIX)
        while start >= 0:
            run = compact[start : start + REFERENCE_LENGTH]
            cut = next((i for i, c in enumerate(run) if not c.isalnum()), len(run))
            for length in range(cut, min_prefix - 1, -1):
                found = open_references.unique_prefix(run[:length])
                if found is not None:
                    return found
            start = compact.find(PREFIX, start + 1)
    return None


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
