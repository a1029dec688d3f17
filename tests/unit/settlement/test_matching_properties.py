"""Properties of the engine on arbitrary inputs: one category each, sums add up, determinism."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement.reconciliation.ledger_items import LedgerItem
from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.outcomes import Reconciliation
from settlement.reconciliation.reports import summary, write_csv, write_json
from settlement.statements.model import Batch, Direction, Entry, Statement, TxDetail
from tests.support.statements import MIX, _case, expected

DAY = date(2026, 11, 23)
IDS = ["FT-0001", "FT-0002", "FT-0003", "E2E-0001", "E2E-0002", None]
REFS = ["CSK7M2Q9XD", "CS00000000", None]
ACCOUNT = "0011004455667"

amounts = st.sampled_from([1_000, 2_000, 3_000, 5_000, 8_000])
directions = st.sampled_from(list(Direction))
days = st.integers(min_value=-3, max_value=3).map(lambda d: DAY + timedelta(days=d))


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    details = tuple(
        TxDetail(
            end_to_end_id=draw(st.sampled_from(IDS)),
            amount_minor=draw(amounts),
            remittance=f"note {draw(st.sampled_from(REFS)) or ''}"[: draw(st.integers(5, 20))],
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    batch = (Batch(None, draw(st.sampled_from(["BATCH-1", None])), draw(st.integers(1, 3)), None, None, None),)
    return Entry(
        amount_minor=draw(amounts),
        currency=draw(st.sampled_from(["VND", "VND", "VND", "EUR"])),
        direction=draw(directions),
        reversal=draw(st.booleans()) and draw(st.booleans()),
        booking_date=draw(days),
        acct_svcr_ref=draw(st.sampled_from(IDS)),
        batches=batch if draw(st.booleans()) else (),
        details=details,
    )


@st.composite
def items(draw: st.DrawFn) -> LedgerItem:
    return LedgerItem(
        item_id=f"i{draw(st.integers(0, 10**6))}",
        account=f"bank:970436:{ACCOUNT}",
        direction=draw(directions),
        amount_minor=draw(amounts),
        currency="VND",
        booking_date=draw(days),
        payment_reference=draw(st.sampled_from(REFS)),
        bank_tx_id=draw(st.sampled_from(IDS)),
        end_to_end_id=draw(st.sampled_from(IDS)),
        batch_id=draw(st.sampled_from(["BATCH-1", None, None])),
    )


def report_bytes(result: Reconciliation) -> str:
    out = io.StringIO()
    write_json(result, out, summary(result))
    write_csv(result, out)
    return out.getvalue()


def assert_invariants(result: Reconciliation) -> None:
    assert all(result.line_categories)
    assert len(result.line_categories) == len(result.entries)
    assert all(result.item_categories)
    assert len(result.item_categories) == len(result.items)
    line_uses: Counter[int] = Counter()
    item_uses: Counter[int] = Counter()
    for match in result.matches():
        line_uses.update(match.lines)
        item_uses.update(match.items)
    for case in result.cases:
        line_uses.update(case.lines)
        item_uses.update(case.items)
    assert line_uses == Counter(range(len(result.entries)))
    assert item_uses == Counter(range(len(result.items)))
    totals = result.totals()
    for currency in {e.currency for e in result.entries}:
        assert sum(t.line_sums.get(currency, 0) for t in totals.values()) == sum(
            e.signed_minor for e in result.entries if e.currency == currency
        )
    assert sum(t.item_sums.get("VND", 0) for t in totals.values()) == sum(i.signed_minor for i in result.items)
    assert sum(t.lines for t in totals.values()) == len(result.entries)
    assert sum(t.items for t in totals.values()) == len(result.items)


@settings(max_examples=300, deadline=None)
@given(st.lists(entries(), max_size=25), st.lists(items(), max_size=25))
def test_every_line_and_item_has_exactly_one_category(lines: list[Entry], ledger: list[LedgerItem]) -> None:
    statement = Statement("camt.053", "001.08", "S", ACCOUNT, "VND", (), tuple(lines))
    result = reconcile([statement], ledger)
    assert_invariants(result)
    assert report_bytes(result) == report_bytes(reconcile([statement], ledger))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([*MIX, "matched", "matched"]), max_size=40), st.randoms(use_true_random=False))
def test_generated_cases_end_where_expected_in_any_order(kinds: list[str], rnd: random.Random) -> None:
    cases = [_case(kind, n, random.Random(n)) for n, kind in enumerate(kinds)]
    lines = [line for case in cases for line in case.lines]
    ledger = [item for case in cases for item in case.items]
    rnd.shuffle(ledger)
    entries_ = [
        Entry(
            amount_minor=line.amount_vnd,
            currency="VND",
            direction=Direction(line.direction),
            reversal=line.reversal,
            booking_date=DAY,
            acct_svcr_ref=line.acct_svcr_ref,
            batches=(Batch(None, None, line.batch_count, None, None, None),) if line.batch_count else (),
            details=tuple(TxDetail(end_to_end_id=t.end_to_end_id, amount_minor=t.amount_vnd) for t in line.txs)
            or (TxDetail(end_to_end_id=line.end_to_end_id, remittance=line.remittance),),
        )
        for line in lines
    ]
    statement = Statement("camt.053", "001.08", "S", ACCOUNT, "VND", (), tuple(entries_))
    result = reconcile([statement], ledger)
    assert_invariants(result)
    totals = result.totals()
    want_lines, want_items = expected(cases)
    assert Counter({c.value: t.lines for c, t in totals.items() if t.lines}) == want_lines
    assert Counter({c.value: t.items for c, t in totals.items() if t.items}) == want_items
