"""What a reconciliation concludes: a category for every statement line and ledger item.

Invariants of a `Reconciliation`:
- every statement line and every ledger item has exactly one `Category`;
- a line or item is in at most one `Match` or `Case`; matched ones are in a match,
  the others in exactly one case, which names both sides;
- the result depends only on the inputs (statements, items, balances, options), never on
  hash seeds, clocks or dict order, so a re-run gives byte-identical reports.

One-to-one matches, the bulk of a day, are kept as parallel arrays rather than objects so
that a million of them take a few megabytes.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from settlement.reconciliation.ledger_items import LedgerItem
from settlement.reconciliation.reasons import Reason
from settlement.statements.model import Entry, Statement


class Category(StrEnum):
    MATCHED = "matched"
    MISSING_IN_BANK = "missing_in_bank"  # in our ledger, not on the statement
    MISSING_IN_LEDGER = "missing_in_ledger"  # on the statement, not in our ledger
    AMOUNT_MISMATCH = "amount_mismatch"  # the same transaction by its references, other amounts
    DUPLICATE = "duplicate"  # the same transaction a second time on the same side
    REVERSED = "reversed"  # the bank reversed it (the reversal, its original, their items)


CATEGORIES: tuple[Category, ...] = tuple(Category)
"""Category codes used in the compact arrays are ``CATEGORIES.index(c) + 1``; 0 = none yet."""


class Stage(StrEnum):
    """Which rule matched, in the order they run."""

    IDS = "ids"  # bank transaction id, EndToEndId, UETR, batch id
    REFERENCE = "reference"  # our payment reference in the remittance text
    AMOUNT_DATE = "amount_date"  # same amount and direction within the date window
    LEDGER_BATCH = "ledger_batch"  # one line = the sum of one of our batches
    SUBSET_SUM = "subset_sum"  # one batch line = a subset of the same day's items


STAGES: tuple[Stage, ...] = tuple(Stage)


@dataclass(frozen=True, slots=True)
class MatchOptions:
    date_tolerance_days: int = 2
    ledger_currency: str = "VND"  # for accounts that have no ledger items to tell
    min_reference_prefix: int = 8  # shortest truncated payment reference accepted
    subset_max_candidates: int = 32
    subset_max_nodes: int = 50_000  # search budget per line: the subset search is exponential


@dataclass(frozen=True, slots=True)
class Match:
    stage: Stage
    lines: tuple[int, ...]
    items: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Case:
    """An exception: the lines and items it categorises, plus context from elsewhere
    (the line a duplicate repeats, the item it was matched to)."""

    category: Category
    explanation: Reason
    lines: tuple[int, ...]
    items: tuple[int, ...]
    related_lines: tuple[int, ...] = ()
    related_items: tuple[int, ...] = ()
    settled: bool = False  # both sides already agree (a reversal the ledger has booked too, a resolved case)
    resolution: str | None = None  # how a finance user resolved it, when a run before this one recorded that

    @property
    def reason(self) -> str:
        """The explanation as plain text (integer amounts), as report.json and the run record keep it."""
        return str(self.explanation)


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    statement_id: str
    account: str
    check: str  # "movement", "opening_vs_ledger", "closing_vs_ledger"
    currency: str
    expected_minor: int | None
    actual_minor: int | None
    ok: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class CategoryTotals:
    lines: int = 0
    items: int = 0
    line_sums: dict[str, int] = field(default_factory=dict)  # signed, per currency
    item_sums: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reconciliation:
    statements: tuple[Statement, ...]
    entries: Sequence[Entry]  # every statement's entries, in order: line i is entries[i]
    line_statement: array[int]  # statement index of each line
    items: Sequence[LedgerItem]
    line_categories: bytes
    item_categories: bytes
    pair_lines: array[int]  # one-to-one matches: line, item, stage code
    pair_items: array[int]
    pair_stages: bytes
    multi_matches: tuple[Match, ...]
    cases: tuple[Case, ...]
    balance_checks: tuple[BalanceCheck, ...]
    options: MatchOptions

    def line_category(self, line: int) -> Category:
        return CATEGORIES[self.line_categories[line] - 1]

    def item_category(self, item: int) -> Category:
        return CATEGORIES[self.item_categories[item] - 1]

    def line_position(self, line: int) -> tuple[int, int]:
        """(statement index, entry index within it): with the statement's identity
        (`settlement.statements.statement_identity`), a name for the line that outlives the run."""
        statement = self.line_statement[line]
        first = sum(len(s.entries) for s in self.statements[:statement])
        return statement, line - first

    def matches(self) -> Iterator[Match]:
        for line, item, stage in zip(self.pair_lines, self.pair_items, self.pair_stages, strict=True):
            yield Match(STAGES[stage], (line,), (item,))
        yield from self.multi_matches

    @property
    def open_cases(self) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if not c.settled)

    @property
    def reconciled(self) -> bool:
        return not self.open_cases and all(check.ok for check in self.balance_checks)

    def totals(self) -> dict[Category, CategoryTotals]:
        """Counts and signed sums per category; they add up to the statement and ledger totals."""
        totals = {c: CategoryTotals() for c in CATEGORIES}
        for entry, code in zip(self.entries, self.line_categories, strict=True):
            bucket = totals[CATEGORIES[code - 1]]
            sums = bucket.line_sums
            sums[entry.currency] = sums.get(entry.currency, 0) + entry.signed_minor
        for item, code in zip(self.items, self.item_categories, strict=True):
            sums = totals[CATEGORIES[code - 1]].item_sums
            sums[item.currency] = sums.get(item.currency, 0) + item.signed_minor
        line_counts = [0] * (len(CATEGORIES) + 1)
        item_counts = [0] * (len(CATEGORIES) + 1)
        for code in self.line_categories:
            line_counts[code] += 1
        for code in self.item_categories:
            item_counts[code] += 1
        return {
            c: CategoryTotals(
                line_counts[i + 1],
                item_counts[i + 1],
                dict(sorted(totals[c].line_sums.items())),
                dict(sorted(totals[c].item_sums.items())),
            )
            for i, c in enumerate(CATEGORIES)
        }
