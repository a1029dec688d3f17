"""Reconciliation runs as events, and what resolving an exception books."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.ledger import Side, bank_charges, refunds_payable, suspense
from settlement.reconciliation.ledger_items import LedgerItem
from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.outcomes import Category
from settlement.reconciliation.resolutions import resolution_entries
from settlement.reconciliation.runs import ReconciliationRun, Resolution
from settlement.statements.model import Direction, Entry, Statement

DAY = date(2026, 11, 23)
AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BANK = "bank:970436:0011004455667"


def item(n: int, amount: int, direction: Direction = Direction.CREDIT) -> LedgerItem:
    return LedgerItem(f"t{n}", BANK, direction, amount, "VND", DAY, bank_tx_id=f"FT2026{n:04d}")


def line(n: int, amount: int, direction: Direction = Direction.CREDIT) -> Entry:
    return Entry(amount, "VND", direction, booking_date=DAY, acct_svcr_ref=f"FT2026{n:04d}")


def run_of(entries: list[Entry], items: list[LedgerItem]) -> ReconciliationRun:
    statement = Statement("camt.053", "001.08", "S1", "0011004455667", "VND", (), tuple(entries))
    result = reconcile([statement], items)
    return ReconciliationRun.record(
        result,
        identities=["stmt-1"],
        first_day=DAY,
        last_day=DAY,
        ledger_position=42,
        ledger_accounts={"0011004455667": BANK},
        at=AT,
    )


def booked(exception: dict[str, Any], resolution: Resolution) -> list[tuple[str, Side, int]]:
    return [
        (e.account, e.side, e.amount_vnd) for e in resolution_entries(exception, resolution, {"0011004455667": BANK})
    ]


def case_of(run: ReconciliationRun, category: Category) -> int:
    return next(int(n) for n, e in run.exceptions.items() if e["category"] == category.value)


def test_a_run_records_every_exception_with_both_sides() -> None:
    run = run_of(
        [line(1, 200_000), line(2, 199_000), line(9, 50_000)], [item(1, 200_000), item(2, 200_000), item(3, 7_000)]
    )
    categories = sorted(e["category"] for e in run.exceptions.values())
    assert categories == ["amount_mismatch", "missing_in_bank", "missing_in_ledger"]
    mismatch = run.exceptions[case_of(run, Category.AMOUNT_MISMATCH)]
    assert (mismatch["lines"][0]["amount_minor"], mismatch["items"][0]["amount_minor"]) == (199_000, 200_000)
    assert run.reconciled is False
    assert sorted(run.open_cases) == sorted(run.exceptions)


def test_same_inputs_name_the_same_run() -> None:
    first = run_of([line(1, 5)], [item(1, 5)])
    again = run_of([line(1, 5)], [item(1, 5)])
    assert first.id == again.id
    assert first.reconciled is True


def test_write_offs_follow_the_direction_of_the_difference() -> None:
    run = run_of([line(2, 199_000), line(9, 50_000)], [item(2, 200_000), item(3, 7_000)])
    fee_taken = run.exceptions[case_of(run, Category.AMOUNT_MISMATCH)]
    assert booked(fee_taken, Resolution.WRITE_OFF) == [
        (bank_charges("970436"), Side.DEBIT, 1_000),
        (BANK, Side.CREDIT, 1_000),
    ]
    unexplained_in = run.exceptions[case_of(run, Category.MISSING_IN_LEDGER)]
    assert booked(unexplained_in, Resolution.WRITE_OFF) == [
        (BANK, Side.DEBIT, 50_000),
        (suspense(), Side.CREDIT, 50_000),
    ]
    assert booked(unexplained_in, Resolution.REFUND) == [
        (BANK, Side.DEBIT, 50_000),
        (refunds_payable(), Side.CREDIT, 50_000),
    ]
    never_arrived = run.exceptions[case_of(run, Category.MISSING_IN_BANK)]
    assert booked(never_arrived, Resolution.WRITE_OFF) == [(suspense(), Side.DEBIT, 7_000), (BANK, Side.CREDIT, 7_000)]


def test_refusals() -> None:
    run = run_of([line(2, 199_000)], [item(2, 200_000), item(3, 7_000)])
    mismatch = case_of(run, Category.AMOUNT_MISMATCH)
    with pytest.raises(InvalidValue, match="cannot be resolved by acknowledge"):
        run.resolve(mismatch, Resolution.ACKNOWLEDGE, "ok", "ketoan.nguyen", None, AT)
    with pytest.raises(InvalidValue, match="reason"):
        run.resolve(mismatch, Resolution.WRITE_OFF, " ", "ketoan.nguyen", "c", AT)
    run.resolve(mismatch, Resolution.WRITE_OFF, "NAPAS fee", "ketoan.nguyen", "c", AT)
    with pytest.raises(InvalidTransition):
        run.resolve(mismatch, Resolution.WRITE_OFF, "again", "ketoan.nguyen", "c", AT)
    with pytest.raises(NotFound):
        run.exception(99)
    with pytest.raises(InvalidValue, match="only money that came in"):
        booked(run.exceptions[case_of(run, Category.MISSING_IN_BANK)], Resolution.REFUND)
    with pytest.raises(InvalidValue, match="one side is empty"):
        booked(run.exceptions[case_of(run, Category.MISSING_IN_BANK)], Resolution.MANUAL_MATCH)
    assert run.open_cases == [case_of(run, Category.MISSING_IN_BANK)]


def test_foreign_currency_is_not_booked_in_the_vnd_ledger() -> None:
    exception = {
        "category": "missing_in_ledger",
        "lines": [{"amount_minor": 2097, "currency": "EUR", "direction": "DBIT", "account": "CH03"}],
        "items": [],
    }
    with pytest.raises(InvalidValue, match="not in VND"):
        resolution_entries(exception, Resolution.WRITE_OFF, {})


def test_replay_reproduces_a_run() -> None:
    run = run_of([line(2, 199_000)], [item(2, 200_000)])
    run.resolve(case_of(run, Category.AMOUNT_MISMATCH), Resolution.WRITE_OFF, "fee", "ketoan.nguyen", "c", AT)
    replayed = None
    for event in run.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(run)
