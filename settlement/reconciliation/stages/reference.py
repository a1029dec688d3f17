"""Stage 2: our payment reference in the line's texts, whole or cut short.

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
from settlement.reconciliation.match_accounts import Account
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import MatchOptions, Stage
from settlement.statements.model import Entry

_SEPARATORS = re.compile(r"[\s.\-_/,:;]+")  # as `find_reference` compacts a note


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


def line_texts(entry: Entry) -> list[str]:
    texts = [t for d in entry.details for t in (d.remittance, d.creditor_reference, d.additional_info) if t]
    if entry.additional_info:
        texts.append(entry.additional_info)
    return texts


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
