"""The transaction-matching stages, strongest evidence first.

Each stage only looks at lines and items still open, so a line matched by its bank id is
never re-matched by amount. Lines are visited in statement order and candidates in
index order, which makes every choice deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from settlement.reconciliation.match_book import Book
from settlement.reconciliation.match_keys import (
    LedgerIndex,
    OpenReferences,
    find_line_reference,
    line_batch_ids,
    line_ids,
    line_texts,
)
from settlement.reconciliation.outcomes import Category, MatchOptions, Stage
from settlement.reconciliation.reasons import LineRef, Reason, reason
from settlement.statements.model import Entry


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


def match_by_reference(book: Book, account: Account, options: MatchOptions) -> None:
    """Stage 2: our payment reference in the line's texts, whole or truncated."""
    items, by_reference = book.items, account.index.by_reference
    open_references = OpenReferences(
        [ref for i in account.items if book.item_open(i) and (ref := items[i].payment_reference) is not None]
    )
    deferred: list[tuple[int, list[int]]] = []
    for line in account.open_lines(book):
        entry = book.entries[line]
        if not book.line_open(line) or entry.reversal:
            continue
        reference = find_line_reference(line_texts(entry), open_references, options.min_reference_prefix)
        candidates = [i for i in by_reference.get(reference, ()) if book.item_open(i)] if reference else []
        if candidates and not book.try_match(Stage.REFERENCE, line, candidates):
            deferred.append((line, candidates))
    book.resolve_groups(Stage.REFERENCE, deferred)


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


def ledger_duplicates(book: Book, account: Account) -> None:
    for duplicate, first in account.index.duplicates:
        book.case(
            Category.DUPLICATE,
            reason(f"repeats ledger item {book.items[first].item_id}"),
            [],
            [duplicate],
            related_items=[first],
        )
