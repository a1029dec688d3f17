"""A resolution is booked on its exception's day, and a later run shows the case as
resolved, with what the resolution booked (issue 9, item 3)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eventsourcing.utils import get_topic

from adapters.eventstore.codec import CodecOptions, build_mapper
from settlement.reconciliation.case_keys import case_key
from settlement.reconciliation.ledger_items import LedgerItem
from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.outcomes import Category
from settlement.reconciliation.runs import ReconciliationRun, Resolution, exception_key
from settlement.statements.model import Direction, Entry, Statement
from tests.unit.settlement.test_runs import AT, BANK, DAY, item, line, run_of

STATEMENT = Statement("camt.053", "001.08", "S1", "0011004455667", "VND", (), ())


def _statement(*entries: Entry) -> Statement:
    return Statement("camt.053", "001.08", "S1", "0011004455667", "VND", (), tuple(entries))


def test_a_resolution_is_dated_on_the_bank_booking_day_of_its_lines_within_the_run() -> None:
    late = Entry(199_000, "VND", Direction.CREDIT, booking_date=DAY + timedelta(days=3), acct_svcr_ref="FT20260001")
    run = run_of([line(2, 50_000), late], [item(1, 200_000), item(3, 7_000)])
    by_category = {e["category"]: n for n, e in run.exceptions.items()}
    assert run.value_date_of(by_category["amount_mismatch"]) == DAY, "kept within the run's period"
    assert run.value_date_of(by_category["missing_in_bank"]) == DAY
    run.resolve(by_category["amount_mismatch"], Resolution.WRITE_OFF, "fee", "ketoan.nguyen", "reconciliation:x", AT)
    event = run.collect_events()[-1]
    assert isinstance(event, ReconciliationRun.ExceptionResolved)
    assert (event.value_date, event.timestamp) == (DAY.isoformat(), AT)
    assert event.case_key == exception_key(run.exceptions[by_category["amount_mismatch"]])


def test_a_version_1_resolution_reads_as_booked_when_it_was_decided() -> None:
    mapper = build_mapper(CodecOptions())
    run = run_of([line(1, 199_000)], [item(1, 200_000)])
    run.resolve(1, Resolution.WRITE_OFF, "fee", "ketoan.nguyen", "reconciliation:abc", AT)
    stored = mapper.to_stored_event(run.collect_events()[-1])
    state: dict[str, Any] = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["value_date"], state["case_key"]  # as version 1 stored it
    assert stored.topic == get_topic(ReconciliationRun.ExceptionResolved)
    event = mapper.to_domain_event(dataclasses.replace(stored, state=mapper.transcoder.encode(state)))
    assert isinstance(event, ReconciliationRun.ExceptionResolved)
    assert (event.value_date, event.case_key) == (None, "reconciliation:abc")


def _resolution_item(key: str, amount: int, direction: Direction) -> LedgerItem:
    return LedgerItem(f"w-{amount}", BANK, direction, amount, "VND", DAY, resolves=key)


def test_a_resolved_case_is_settled_with_what_its_resolution_booked() -> None:
    mismatch = (["stmt-1#0"], ["t1"])
    key = case_key(*mismatch)
    items = [item(1, 200_000), _resolution_item(key, 1_000, Direction.DEBIT), item(2, 7_000)]
    result = reconcile(
        [_statement(line(1, 199_000))],
        items,
        resolved={key: "write_off by ketoan.nguyen: NAPAS fee"},
        identities=["stmt-1"],
    )
    resolved, missing = result.cases
    assert (resolved.category, resolved.settled, resolved.items) == (Category.AMOUNT_MISMATCH, True, (0, 1))
    assert resolved.resolution == "write_off by ketoan.nguyen: NAPAS fee"
    assert result.item_category(1) is Category.AMOUNT_MISMATCH
    assert (missing.category, missing.settled, missing.resolution) == (Category.MISSING_IN_BANK, False, None)
    assert [c.items for c in result.open_cases] == [(2,)]


def test_resolution_items_never_match_a_statement_line_and_their_case_elsewhere_is_settled() -> None:
    key = case_key(["other-statement#4"], [])
    items = [_resolution_item(key, 7_000, Direction.CREDIT)]
    result = reconcile([_statement(line(5, 7_000))], items, resolved={key: "refund by kt"}, identities=["stmt-1"])
    stray, booked = sorted(result.cases, key=lambda c: c.settled)
    assert (stray.category, stray.lines) == (Category.MISSING_IN_LEDGER, (0,)), "not paired by amount and date"
    assert (booked.category, booked.items, booked.settled) == (Category.MISSING_IN_BANK, (0,), True)
    assert booked.resolution == "refund by kt"
    without_names = reconcile([STATEMENT], items)
    assert without_names.cases[0].settled, "a resolution's own booking never waits for a statement"
    assert without_names.reconciled


def test_a_run_records_the_resolution_it_shows() -> None:
    key = case_key(["stmt-1#0"], ["t1"])
    statement = _statement(line(1, 199_000))
    items = [item(1, 200_000), _resolution_item(key, 1_000, Direction.DEBIT)]
    result = reconcile([statement], items, resolved={key: "write_off by kt"}, identities=["stmt-1"])
    run = ReconciliationRun.record(
        result,
        identities=["stmt-1"],
        first_day=DAY,
        last_day=DAY,
        ledger_position=43,
        ledger_accounts={},
        at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    assert run.exceptions[1]["resolution"] == "write_off by kt"
    assert run.open_cases == []
    assert date.fromisoformat(run.exceptions[1]["items"][1]["booking_date"]) == DAY
