"""Stage 1: the ids both sides carry — bank transaction ids, EndToEndId, UETR and batch
ids, one-to-many through the entry's TxDtls and many-to-one for split payments.
Reversals and their originals are set aside on the way; a line repeating an already
matched one, and a ledger item repeating another's booking, are duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence

from settlement.reconciliation.match_accounts import MIN_ID_LENGTH, Account
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import Category, Stage
from settlement.reconciliation.reasons import LineRef, reason
from settlement.statements.model import Entry


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


def _lookup(by_id: dict[str, int | list[int]], keys: Sequence[str]) -> list[int]:
    found: list[int] = []
    for key in keys:
        hit = by_id.get(key)
        if hit is None:
            continue
        for item in (hit,) if isinstance(hit, int) else hit:
            if item not in found:
                found.append(item)
    return found


def ledger_duplicates(book: Book, account: Account) -> None:
    for duplicate, first in account.index.duplicates:
        book.case(
            Category.DUPLICATE,
            reason(f"repeats ledger item {book.items[first].item_id}"),
            [],
            [duplicate],
            related_items=[first],
        )


def match_by_ids(book: Book, account: Account) -> None:
    """Stage 1: bank ids, EndToEndId, UETR and batch ids; reversals and their originals
    are set aside on the way, and a line repeating an already matched one is a duplicate."""
    entries = book.entries
    by_id, by_batch = account.index.by_id, account.index.by_batch
    reversals = _reversal_keys(entries, account.lines)
    originals: dict[int, int] = {}  # reversal line -> the line it reverses
    deferred: list[tuple[int, list[int]]] = []
    line_categories, item_categories = book.line_categories, book.item_categories
    for line in account.lines:
        entry = entries[line]
        if entry.reversal or line_categories[line]:
            continue
        ids = line_ids(entry)
        if (
            reversals
            and not reversals.keys().isdisjoint(ids)
            and _is_reversed(entries, line, ids, reversals, originals)
        ):
            continue
        found = _lookup(by_id, ids)
        if entry.batches:
            for batch in line_batch_ids(entry):
                found.extend(i for i in by_batch.get(batch, ()) if i not in found)
        if not found:
            continue
        candidates = [i for i in found if not item_categories[i]]
        if not candidates:
            _maybe_duplicate(book, line, ids, found)
        elif not book.try_match(Stage.IDS, line, candidates):
            deferred.append((line, candidates))
    _close_reversals(book, account, originals)
    book.resolve_groups(Stage.IDS, deferred)


def _reversal_keys(entries: Sequence[Entry], lines: Sequence[int]) -> dict[str, list[int]]:
    keys: dict[str, list[int]] = {}
    for line in lines:
        if entries[line].reversal:
            for key in line_ids(entries[line]):
                keys.setdefault(key, []).append(line)
    return keys


def _is_reversed(
    entries: Sequence[Entry], line: int, ids: list[str], reversals: dict[str, list[int]], originals: dict[int, int]
) -> bool:
    """Pair ``line`` with an unpaired reversal of the same amount, the other way, sharing an id."""
    entry = entries[line]
    for key in ids:
        for reversal in reversals.get(key, ()):
            other = entries[reversal]
            if (
                reversal not in originals
                and other.amount_minor == entry.amount_minor
                and (other.currency == entry.currency and other.direction is not entry.direction)
            ):
                originals[reversal] = line
                return True
    return False


def _close_reversals(book: Book, account: Account, originals: dict[int, int]) -> None:
    entries, items = book.entries, book.items
    for line in account.lines:
        if not entries[line].reversal or not book.line_open(line):
            continue
        lines = [originals[line], line] if line in originals else [line]
        keys = [key for member in lines for key in line_ids(entries[member])]
        found = [i for i in _lookup(account.index.by_id, keys) if book.item_open(i)]
        settled = sum(entries[m].signed_minor for m in lines) == sum(items[i].signed_minor for i in found)
        why = (
            reason("reversal of ", LineRef(originals[line]))
            if line in originals
            else reason("reversal of an entry that is not on this statement")
        )
        book.case(Category.REVERSED, why, lines, found, settled=settled)


def _maybe_duplicate(book: Book, line: int, ids: list[str], found: list[int]) -> None:
    """Every item this line's ids point to is taken; if by a line identical to this one,
    the bank booked the same transaction twice."""
    first = book.matched_to[found[0]]
    if first < 0 or first == line:
        return
    entry, earlier = book.entries[line], book.entries[first]
    if (entry.amount_minor, entry.currency, entry.direction) == (
        earlier.amount_minor,
        earlier.currency,
        earlier.direction,
    ) and line_ids(earlier) == ids:
        why = reason("repeats ", LineRef(first))
        book.case(Category.DUPLICATE, why, [line], [], related_lines=[first], related_items=found)
