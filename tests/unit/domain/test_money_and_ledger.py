from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.model.balances import Balance, BalanceView
from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import (
    PartyKind,
    Side,
    balanced,
    bank_clearing,
    credit,
    debit,
    payable,
    suspense,
    wallet,
)
from domain.model.money import MAX_VND, Money, allocate, checked_vnd
from domain.model.transfers import Hold, HoldStatus, Transfer, transfer_id

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BANK = bank_clearing("970436", "0011004455667")
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")


@pytest.mark.parametrize("bad", [1.0, True, "100", None, -1, MAX_VND + 1])
def test_amounts_are_whole_dong_in_range(bad: object) -> None:
    with pytest.raises(InvalidValue):
        checked_vnd(bad)


def test_money_formats_with_vietnamese_grouping() -> None:
    assert str(Money(25_000)) == "25.000 VND"
    assert Money(25_000) + Money(10_000) - Money(5_000) == Money(30_000)


@given(st.integers(0, MAX_VND), st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(any))
def test_allocation_sums_to_the_total_and_is_proportional(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / whole
        assert abs(part - exact) < 1 + 1e-9 * total
        if weight == 0:
            assert part == 0


entries = st.lists(
    st.tuples(st.sampled_from([BANK, AGENCY, suspense(), wallet("u1")]), st.integers(1, 10**9)),
    min_size=1,
    max_size=5,
)


@given(entries, entries)
def test_a_transfer_exists_only_when_debits_equal_credits(
    debits: list[tuple[str, int]], credits: list[tuple[str, int]]
) -> None:
    all_entries = [debit(a, n) for a, n in debits] + [credit(a, n) for a, n in credits]
    accounts = {a for a, _ in debits + credits}
    if sum(n for _, n in debits) == sum(n for _, n in credits) and len(accounts) > 1:
        transfer = Transfer.post("c", "k", all_entries, T0)
        sides = list(transfer.entries)
        assert sum(e.amount_vnd for e in sides if e.side is Side.DEBIT) == sum(
            e.amount_vnd for e in sides if e.side is Side.CREDIT
        )
    else:
        with pytest.raises(InvalidValue):
            Transfer.post("c", "k", all_entries, T0)


def test_entries_need_positive_amounts_on_known_accounts() -> None:
    with pytest.raises(InvalidValue):
        debit(BANK, 0)
    with pytest.raises(InvalidValue, match="unknown account"):
        debit("nowhere:1", 5)
    with pytest.raises(InvalidValue):
        payable(PartyKind.AGENCY, "has:colon")
    with pytest.raises(InvalidValue, match="two accounts"):
        balanced([debit(BANK, 5), credit(BANK, 5)])


def test_transfer_ids_come_from_the_cause_and_reversals_flip_entries() -> None:
    transfer = Transfer.post("bank-credit:1", "k", [debit(BANK, 100), credit(AGENCY, 100)], T0)
    assert transfer.id == transfer_id("bank-credit:1")
    reversal = transfer.reversal("bank-credit:1:reversal", T0)
    assert reversal.reversal_of == str(transfer.id)
    assert [(e.account, e.side) for e in reversal.entries] == [(BANK, Side.CREDIT), (AGENCY, Side.DEBIT)]


def hold(amount: int = 50_000) -> Hold:
    return Hold.place(
        "parking:1",
        "parking.hold",
        wallet("u1"),
        payable(PartyKind.OPERATOR, "op"),
        amount,
        T0,
        T0 + timedelta(hours=4),
    )


def test_hold_posts_at_most_the_held_amount_once() -> None:
    h = hold()
    with pytest.raises(InvalidValue):
        h.post(50_001, T0)
    h.post(35_000, T0 + timedelta(hours=1))
    assert (h.status, h.posted_vnd) == (HoldStatus.POSTED, 35_000)
    with pytest.raises(InvalidTransition):
        h.post(1, T0)
    with pytest.raises(InvalidTransition):
        h.void("x", T0)
    with pytest.raises(InvalidTransition):
        h.expire(T0 + timedelta(days=1))


def test_hold_voids_or_expires_but_not_early() -> None:
    voided = hold()
    voided.void("cancelled by driver", T0 + timedelta(minutes=5))
    assert voided.status is HoldStatus.VOIDED
    expiring = hold()
    with pytest.raises(InvalidTransition, match="not expired"):
        expiring.expire(T0 + timedelta(hours=1))
    with pytest.raises(InvalidTransition, match="has expired"):
        expiring.post(10, T0 + timedelta(hours=4))
    expiring.expire(T0 + timedelta(hours=4))
    assert expiring.status is HoldStatus.EXPIRED


def test_hold_must_expire_after_it_is_placed() -> None:
    with pytest.raises(InvalidValue):
        Hold.place("c", "k", wallet("u"), AGENCY, 5, T0, T0)


def test_replaying_events_reproduces_a_hold() -> None:
    h = hold()
    h.post(20_000, T0 + timedelta(hours=2))
    replayed = None
    for event in h.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(h)


def test_balance_views_follow_the_normal_side() -> None:
    b = Balance()
    b.add(Side.DEBIT, 100, pending=False)
    b.add(Side.CREDIT, 30, pending=True)
    assert BalanceView.of(BANK, b) == BalanceView(BANK, 100, -30, 70)
    w = Balance()
    w.add(Side.CREDIT, 100, pending=False)
    w.add(Side.DEBIT, 40, pending=True)
    assert BalanceView.of(wallet("u"), w) == BalanceView(wallet("u"), 100, -40, 60)
