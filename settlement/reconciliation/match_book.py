"""Bookkeeping of one reconciliation run: which line and item went where.

Everything a stage decides goes through `Book.match` or `Book.case`, which set the
category of each line and item exactly once (an assert guards it: a stage that
categorised something twice is a programming error, not bad input).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

from settlement.reconciliation.ledger_items import LedgerItem
from settlement.reconciliation.outcomes import CATEGORIES, STAGES, Case, Category, Match, Stage
from settlement.reconciliation.reasons import Money, Reason, reason
from settlement.statements.model import Entry

MATCHED = CATEGORIES.index(Category.MATCHED) + 1


class Book:
    def __init__(self, entries: Sequence[Entry], items: Sequence[LedgerItem]) -> None:
        self.entries = entries
        self.items = items
        self.line_categories = bytearray(len(entries))
        self.item_categories = bytearray(len(items))
        self.pair_lines: array[int] = array("q")
        self.pair_items: array[int] = array("q")
        self.pair_stages = bytearray()
        self.multi: list[Match] = []
        self.cases: list[Case] = []
        # The line each matched item went to, so that a repeated line can name it.
        self.matched_to: array[int] = array("q", [-1]) * len(items)

    def line_open(self, line: int) -> bool:
        return not self.line_categories[line]

    def item_open(self, item: int) -> bool:
        return not self.item_categories[item]

    def match(self, stage: Stage, lines: Sequence[int], items: Sequence[int]) -> None:
        assert lines, "a match has statement lines"
        assert items, "a match has ledger items"
        for line in lines:
            assert not self.line_categories[line], f"line {line} categorised twice"
            self.line_categories[line] = MATCHED
        for item in items:
            assert not self.item_categories[item], f"item {item} categorised twice"
            self.item_categories[item] = MATCHED
            self.matched_to[item] = lines[0]
        if len(lines) == 1 and len(items) == 1:
            self.pair_lines.append(lines[0])
            self.pair_items.append(items[0])
            self.pair_stages.append(STAGES.index(stage))
        else:
            self.multi.append(Match(stage, tuple(lines), tuple(items)))

    def match_pair(self, stage_code: int, line: int, item: int) -> None:
        """`match` for the one-to-one case that makes up most of a day, without the tuples."""
        assert not self.line_categories[line], f"line {line} categorised twice"
        assert not self.item_categories[item], f"item {item} categorised twice"
        self.line_categories[line] = MATCHED
        self.item_categories[item] = MATCHED
        self.matched_to[item] = line
        self.pair_lines.append(line)
        self.pair_items.append(item)
        self.pair_stages.append(stage_code)

    def case(
        self,
        category: Category,
        reason: Reason,
        lines: Sequence[int],
        items: Sequence[int],
        *,
        related_lines: Iterable[int] = (),
        related_items: Iterable[int] = (),
        settled: bool = False,
        resolution: str | None = None,
    ) -> None:
        code = CATEGORIES.index(category) + 1
        for line in lines:
            assert not self.line_categories[line], f"line {line} categorised twice"
            self.line_categories[line] = code
        for item in items:
            assert not self.item_categories[item], f"item {item} categorised twice"
            self.item_categories[item] = code
        self.cases.append(
            Case(
                category,
                reason,
                tuple(lines),
                tuple(items),
                tuple(related_lines),
                tuple(related_items),
                settled,
                resolution,
            )
        )

    def try_match(self, stage: Stage, line: int, candidates: Sequence[int]) -> bool:
        """Match ``line`` to all ``candidates`` when they sum to it, else to the single
        candidate of exactly its amount nearest in date; report whether it matched."""
        entry = self.entries[line]
        items = self.items
        if len(candidates) == 1:
            item = items[candidates[0]]
            if (
                item.amount_minor == entry.amount_minor
                and item.direction is entry.direction
                and item.currency == entry.currency
            ):
                self.match_pair(STAGES.index(stage), line, candidates[0])
                return True
            return False
        if all(items[c].currency == entry.currency for c in candidates) and (
            sum(items[c].signed_minor for c in candidates) == entry.signed_minor
        ):
            self.match(stage, (line,), candidates)
            return True
        exact = [
            c for c in candidates if items[c].currency == entry.currency and items[c].signed_minor == entry.signed_minor
        ]
        if exact:
            when = entry.booking_date or entry.value_date
            exact.sort(key=lambda c: (abs((items[c].booking_date - when).days) if when else 0, c))
            self.match(stage, (line,), exact[:1])
            return True
        return False

    def resolve_groups(self, stage: Stage, deferred: Sequence[tuple[int, Sequence[int]]]) -> None:
        """Lines that share candidates: many-to-one (split payments) when the sums agree,
        else an amount mismatch naming both sides."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for line, candidates in deferred:
            key = tuple(sorted(c for c in candidates if self.item_open(c)))
            if key and self.line_open(line):
                groups.setdefault(key, []).append(line)
        for key, group in groups.items():
            items = [c for c in key if self.item_open(c)]
            lines = [line for line in group if self.line_open(line)]
            if not items or not lines:
                continue
            line_currencies = {self.entries[line].currency for line in lines}
            item_currencies = {self.items[c].currency for c in items}
            line_sum = sum(self.entries[line].signed_minor for line in lines)
            item_sum = sum(self.items[c].signed_minor for c in items)
            if len(line_currencies | item_currencies) == 1 and line_sum == item_sum:
                self.match(stage, lines, items)
            else:
                self.case(
                    Category.AMOUNT_MISMATCH,
                    _mismatch(line_currencies, item_currencies, line_sum, item_sum, stage),
                    lines,
                    items,
                )


def _mismatch(
    line_currencies: set[str], item_currencies: set[str], line_sum: int, item_sum: int, stage: Stage
) -> Reason:
    if len(line_currencies | item_currencies) > 1:
        return reason(
            f"same transaction by {stage.value}, but the bank booked it in {'/'.join(sorted(line_currencies))} "
            f"and the ledger in {'/'.join(sorted(item_currencies))}"
        )
    currency = next(iter(line_currencies))
    return reason(
        f"same transaction by {stage.value}: bank ",
        Money(line_sum, currency),
        ", ledger ",
        Money(item_sum, currency),
        " (difference ",
        Money(line_sum - item_sum, currency),
        ")",
    )
