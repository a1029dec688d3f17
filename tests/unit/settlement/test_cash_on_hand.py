"""Cash not yet banked per operator and day, and the cash a payout withholds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.model.ledger import Entry, PartyKind, bank_clearing, cash, credit, debit, payable
from domain.model.transfers import Transfer
from domain.services.memory_projections import InMemoryProjectionStore
from settlement.payouts.cash_on_hand import CashDay, CashOnHand, cash_not_banked
from settlement.payouts.figures import CashWithheld
from tests.support.views import FakeView

OPERATOR = "op-hoankiem"
BANK = bank_clearing("970415", "1140000077")
DAY = date(2026, 11, 23)


def at(day: int) -> datetime:
    return datetime(2026, 11, 23, 3, 0, tzinfo=UTC) + timedelta(days=day)  # 10:00 in Hanoi


def posted(kind: str, entries: list[Entry], day: int) -> Any:
    (event,) = Transfer.post(f"{kind}:{uuid4()}", kind, entries, at(day)).collect_events()
    return event


def collected(amount: int, day: int) -> Any:
    entries = [debit(cash(OPERATOR), amount), credit(payable(PartyKind.OPERATOR, OPERATOR), amount)]
    return posted("parking.session.cash", entries, day)


def deposited(amount: int, day: int) -> Any:
    return posted("cash.deposit", [debit(BANK, amount), credit(cash(OPERATOR), amount)], day)


async def report(events: list[Any], through: date) -> list[CashDay]:
    view, rows = FakeView(), InMemoryProjectionStore()
    for event in events:
        await CashOnHand().apply(event, view)
    await rows.commit_projection(CashOnHand.name, 0, 1, view.rows)
    return await cash_not_banked(rows, through)


async def test_deposits_bank_the_oldest_cash_first() -> None:
    moves = [collected(100_000, 0), collected(50_000, 1), deposited(120_000, 1), collected(70_000, 2)]
    assert await report(moves, DAY + timedelta(days=2)) == [
        CashDay(OPERATOR, DAY + timedelta(days=1), 50_000, 30_000),
        CashDay(OPERATOR, DAY + timedelta(days=2), 70_000, 70_000),
    ]
    # As of the first day, the later deposit had not happened yet.
    assert await report(moves, DAY) == [CashDay(OPERATOR, DAY, 100_000, 100_000)]
    assert await report([*moves, deposited(100_000, 3)], DAY + timedelta(days=3)) == []


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 10**6), st.integers(0, 5)), max_size=12))
async def test_what_is_not_banked_is_what_was_collected_less_what_was_deposited(
    moves: list[tuple[bool, int, int]],
) -> None:
    events = [deposited(amount, day) if is_deposit else collected(amount, day) for is_deposit, amount, day in moves]
    days = await report(events, DAY + timedelta(days=5))
    held = sum(amount if not is_deposit else -amount for is_deposit, amount, _ in moves)
    assert sum(d.not_banked_vnd for d in days) == max(0, held)
    assert all(0 < d.not_banked_vnd <= d.collected_vnd for d in days)


def test_withheld_cash_is_released_as_it_is_banked() -> None:
    assert CashWithheld(claimed_vnd=85_000, deposited_vnd=0, before_vnd=0, after_vnd=85_000).released_vnd == -85_000
    assert CashWithheld(claimed_vnd=0, deposited_vnd=60_000, before_vnd=85_000, after_vnd=25_000).released_vnd == 60_000
