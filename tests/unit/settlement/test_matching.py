"""The matching engine on generated statements with a known answer, and on the real samples."""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import replace
from datetime import date

from settlement.reconciliation.ledger_items import LedgerBalance, LedgerItem
from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.outcomes import Category, Reconciliation, Stage
from settlement.statements import Direction, Statement, read_statement_file
from tests.support.statements import (
    ACCOUNT_NO,
    MIX,
    Case,
    GenLine,
    _case,
    _item,
    expected,
    scenario,
    write_camt053,
)
from tests.unit.settlement.fixtures import load


def run(cases: list[Case], **kwargs: object) -> Reconciliation:
    out = io.StringIO()
    write_camt053(out, [line for case in cases for line in case.lines])
    statements = [i.statement for i in read_statement_file(io.BytesIO(out.getvalue().encode())).statements]
    return reconcile(statements, [item for case in cases for item in case.items], **kwargs)  # type: ignore[arg-type]


def counts(result: Reconciliation) -> tuple[Counter[str], Counter[str]]:
    totals = result.totals()
    return (
        Counter({c.value: t.lines for c, t in totals.items() if t.lines}),
        Counter({c.value: t.items for c, t in totals.items() if t.items}),
    )


def test_every_kind_of_case_lands_in_its_category() -> None:
    cases = list(scenario(6_000, seed=11))
    assert {c.kind for c in cases} >= set(MIX) - {"subset_sum"}
    result = run(cases)
    assert counts(result) == expected(cases)
    stages = Counter(m.stage for m in result.matches())
    assert all(stages[s] for s in (Stage.IDS, Stage.REFERENCE, Stage.AMOUNT_DATE, Stage.LEDGER_BATCH))


def test_one_of_each_exception_with_both_sides() -> None:
    kinds = ["missing_in_bank", "missing_in_ledger", "amount_mismatch", "duplicate", "reversed", "subset_sum"]
    rnd = random.Random(3)
    cases = [_case(kind, n, rnd) for n, kind in enumerate(kinds)]
    result = run(cases)
    by_category = {c.category: c for c in result.cases}
    assert set(by_category) == {Category(k) for k in kinds if k != "subset_sum"}
    mismatch = by_category[Category.AMOUNT_MISMATCH]
    assert (len(mismatch.lines), len(mismatch.items)) == (1, 1)
    assert "difference 500" in mismatch.reason
    duplicate = by_category[Category.DUPLICATE]
    assert duplicate.related_lines
    assert duplicate.related_items
    reversal = by_category[Category.REVERSED]
    assert (len(reversal.lines), len(reversal.items), reversal.settled) == (2, 1, False)
    assert any(m.stage is Stage.SUBSET_SUM for m in result.matches())
    assert not result.reconciled


def test_truncated_reference_must_be_unique_among_open_items() -> None:
    case = next(scenario(1, seed=4, mix={"truncated_reference": 10_000}))
    item = case.items[0]
    reference = item.payment_reference
    assert reference is not None
    line = replace(case.lines[0], remittance=f"IBFT {reference[:8]}")
    twin = _item(99, item.amount_minor + 1_000, payment_reference=reference[:8] + "ZZ")
    alone = run([Case("t", [line], [item], ["matched"], ["matched"])])
    assert alone.line_category(0) is Category.MATCHED
    ambiguous = run([Case("t", [line], [item, twin])], options=None)
    assert next(iter(ambiguous.matches())).stage is Stage.AMOUNT_DATE  # not by the ambiguous prefix


def test_currency_other_than_the_ledgers_is_an_exception_not_a_crash() -> None:
    statement = load("camt053_v8_uetr_fx__viafintech.xml").statements[0].statement
    item = LedgerItem(
        "x",
        "bank:970436:CH1111111111111111111",
        Direction.CREDIT,
        47440,
        "VND",
        date(2023, 6, 20),
        end_to_end_id="80000004540000100095",
    )
    result = reconcile([statement], [item])
    assert [c.category for c in result.cases].count(Category.MISSING_IN_LEDGER) == 2
    mismatch = next(c for c in result.cases if c.category is Category.AMOUNT_MISMATCH)
    assert "CHF" in mismatch.reason
    assert "VND" in mismatch.reason
    assert all("CHF" in c.reason or "EUR" in c.reason for c in result.cases)


def test_balances_against_the_ledger() -> None:
    statement: Statement = load("camt053_v4_batch_reversal_charges__viafintech.xml").statements[0].statement
    ledger = {"CH0309000000250090342": LedgerBalance("CH0309000000250090342", "CHF", 32215216, 32268900)}
    checks = {c.check: c for c in reconcile([statement], [], ledger_balances=ledger).balance_checks}
    assert checks["movement"].ok
    assert checks["opening_vs_ledger"].ok
    assert not checks["closing_vs_ledger"].ok
    assert (checks["closing_vs_ledger"].expected_minor, checks["closing_vs_ledger"].actual_minor) == (
        32268977,
        32268900,
    )


def test_reversal_booked_on_both_sides_is_settled() -> None:
    original = GenLine(100_000, acct_svcr_ref="FT-A", end_to_end_id="E2E-0001")
    reversal = GenLine(100_000, "DBIT", "FT-B", "E2E-0001", reversal=True)
    items = [
        _item(1, 100_000, bank_tx_id="FT-A", end_to_end_id="E2E-0001"),
        _item(2, 100_000, direction="DBIT", end_to_end_id="E2E-0001"),
    ]
    result = run([Case("r", [original, reversal], items)])
    (case,) = result.cases
    assert (case.category, case.settled, len(case.items)) == (Category.REVERSED, True, 2)
    assert result.reconciled


def test_ledger_duplicate_and_clean_day() -> None:
    line = GenLine(70_000, acct_svcr_ref="FT-9")
    first, again = _item(1, 70_000, bank_tx_id="FT-9"), _item(2, 70_000, bank_tx_id="FT-9")
    result = run([Case("d", [line], [first, again])])
    assert [(c.category, c.items, c.related_items) for c in result.cases] == [(Category.DUPLICATE, (1,), (0,))]
    clean = run([Case("c", [line], [first])])
    assert clean.reconciled
    assert clean.totals()[Category.MATCHED].line_sums == {"VND": 70_000}


def test_items_of_an_account_without_statement_are_missing_in_bank() -> None:
    stray = LedgerItem("s", "bank:970436:999", Direction.CREDIT, 5_000, "VND", date(2026, 11, 23))
    result = reconcile([], [stray])
    assert result.item_category(0) is Category.MISSING_IN_BANK
    assert ACCOUNT_NO not in stray.account


def test_line_position_names_statement_and_entry() -> None:
    statements = [i.statement for i in load("mt940_sepa_batch_reversal__wolph-mt940.sta").statements]
    result = reconcile(statements, [])
    last = len(result.entries) - 1
    assert result.line_position(0) == (0, 0)
    assert result.line_position(last) == (len(statements) - 1, len(statements[-1].entries) - 1)
    statement, entry = result.line_position(10)
    assert statements[statement].entries[entry] is result.entries[10]
