"""The wallet guard and the top-up hand-over, on a unit of work over events kept in memory."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from domain.model.ledger import PartyKind, bank_clearing, cash, credit, debit, payable, wallet
from domain.model.payments import Payment, PaymentPurpose
from domain.model.references import make_reference
from domain.model.transfers import Hold, HoldStatus, Transfer
from domain.model.wallets import InsufficientFunds, Wallet, wallet_id
from domain.services.unit_of_work import UnitOfWork
from domain.services.wallets import (
    guard_hold,
    guard_transfer,
    on_wallet_topup_paid,
    topup_cause,
    wallet_spendable,
)

T0 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
HOLDER = "driver-lan"
ACCOUNT = wallet(HOLDER)
OPERATOR = payable(PartyKind.OPERATOR, "op-1")


class MemoryEvents:
    """Streams in a dict: all a `UnitOfWork` reads (``load``) and what `commit` writes."""

    def __init__(self) -> None:
        self.streams: dict[UUID, list[Any]] = defaultdict(list)

    async def load(self, stream_id: UUID, after_version: int = 0) -> list[Any]:
        return [e for e in self.streams[stream_id] if e.originator_version > after_version]

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(cast(Any, self))

    def commit(self, uow: UnitOfWork) -> int:
        events = uow.new_events()
        for event in events:
            self.streams[event.originator_id].append(event)
        return len(events)


def paid_topup(amount_vnd: int) -> Payment:
    request = uuid4()
    payment = Payment.create(
        reference=make_reference(request),
        request_id=request,
        amount_vnd=amount_vnd,
        payee_account=ACCOUNT,
        purpose=PaymentPurpose.WALLET_TOPUP,
        purpose_id=HOLDER,
        bank_bin="970415",
        account_no="1140000077",
        at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )
    payment.credit("FT-1", amount_vnd, T0)
    return payment


async def funded(events: MemoryEvents, amount_vnd: int) -> None:
    uow = events.unit_of_work()
    await on_wallet_topup_paid(uow, paid_topup(amount_vnd), T0)
    events.commit(uow)


async def current(events: MemoryEvents) -> Wallet:
    return await events.unit_of_work().get(Wallet, wallet_id(HOLDER))


def sale(cause: str, amount_vnd: int) -> Transfer:
    return Transfer.post(cause, "sale", [debit(ACCOUNT, amount_vnd), credit(OPERATOR, amount_vnd)], T0)


def hold(cause: str, amount_vnd: int, expires_at: datetime = T0 + timedelta(days=1)) -> Hold:
    return Hold.place(cause, "parking", ACCOUNT, OPERATOR, amount_vnd, T0, expires_at)


async def test_the_top_up_hand_over_opens_the_wallet_and_counts_the_payment_once() -> None:
    events = MemoryEvents()
    payment = paid_topup(120_000)
    for _ in range(2):
        uow = events.unit_of_work()
        await on_wallet_topup_paid(uow, payment, T0)
        events.commit(uow)
    topped = await current(events)
    assert (topped.balance_vnd, topped.available_vnd) == (120_000, 120_000)
    assert list(topped.changes) == [topup_cause(payment)] == [f"payment:{payment.reference}"]
    assert len(events.streams[wallet_id(HOLDER)]) == 2  # opened, topped up: the retry added nothing


async def test_a_spend_from_a_wallet_never_topped_up_is_refused() -> None:
    uow = MemoryEvents().unit_of_work()
    with pytest.raises(InsufficientFunds, match="0 VND available, 8000 VND needed for payg:1"):
        await guard_transfer(uow, sale("payg:1", 8_000), T0)
    assert uow.new_events() == []


async def test_a_transfer_out_of_a_wallet_is_debited_under_its_cause() -> None:
    events = MemoryEvents()
    await funded(events, 50_000)
    uow = events.unit_of_work()
    await guard_transfer(uow, sale("ticket:1:sale", 40_000), T0)
    events.commit(uow)
    spent = await current(events)
    assert (spent.balance_vnd, spent.changes["ticket:1:sale"].amount_vnd) == (10_000, 40_000)
    with pytest.raises(InsufficientFunds, match="10000 VND available, 40000 VND needed for ticket:2:sale"):
        await guard_transfer(events.unit_of_work(), sale("ticket:2:sale", 40_000), T0)


async def test_transfers_that_touch_no_wallet_pass_untouched() -> None:
    uow = MemoryEvents().unit_of_work()
    bank = bank_clearing("970415", "1140000077")
    await guard_transfer(uow, Transfer.post("cash:1", "cash", [debit(cash("op-1"), 5), credit(bank, 5)], T0), T0)
    await guard_hold(uow, Hold.place("h", "k", cash("op-1"), bank, 5, T0, T0 + timedelta(days=1)), T0)
    assert uow.new_events() == []


async def test_the_wallet_follows_a_hold_placed_posted_and_voided() -> None:
    events = MemoryEvents()
    await funded(events, 100_000)
    uow = events.unit_of_work()
    stay, booking = hold("parking:session:1:hold", 60_000), hold("parking:reservation:1", 30_000)
    for placed in (stay, booking, stay):  # a hold seen again is already reserved
        await guard_hold(uow, placed, T0)
    assert ((await uow.get(Wallet, wallet_id(HOLDER))).available_vnd) == 10_000
    with pytest.raises(InsufficientFunds, match="10000 VND available, 10001 VND needed"):
        await guard_hold(uow, hold("parking:session:2:hold", 10_001), T0)
    stay.post(45_000, T0 + timedelta(hours=2))
    booking.void("cancelled in time", T0 + timedelta(hours=2))
    for ended in (stay, booking):
        await guard_hold(uow, ended, T0 + timedelta(hours=2))
    events.commit(uow)
    after = await current(events)
    assert (after.balance_vnd, after.reserved_vnd) == (55_000, 0)


async def test_a_spend_gives_back_lapsed_holds_and_expires_them() -> None:
    events = MemoryEvents()
    await funded(events, 40_000)
    uow = events.unit_of_work()
    lapsing = hold("parking:session:1:hold", 40_000, expires_at=T0 + timedelta(hours=1))
    await guard_hold(uow, lapsing, T0)
    uow.add(lapsing)
    events.commit(uow)
    with pytest.raises(InsufficientFunds):
        await guard_transfer(events.unit_of_work(), sale("ticket:1:sale", 40_000), T0 + timedelta(minutes=59))
    uow = events.unit_of_work()
    await guard_transfer(uow, sale("ticket:1:sale", 40_000), T0 + timedelta(hours=1))
    assert events.commit(uow) == 3  # the hold expired, the reservation released, the debit
    assert (await events.unit_of_work().get(Hold, lapsing.id)).status is HoldStatus.EXPIRED
    assert (await current(events)).balance_vnd == 0


async def test_what_a_wallet_payment_can_spend_includes_its_own_hold() -> None:
    events = MemoryEvents()
    uow = events.unit_of_work()
    assert await wallet_spendable(uow, HOLDER, None, T0) == 0
    await funded(events, 100_000)
    uow = events.unit_of_work()
    own, other = hold("parking:session:1:hold", 25_000), hold("parking:session:2:hold", 50_000)
    for placed in (own, other):
        await guard_hold(uow, placed, T0)
    assert await wallet_spendable(uow, HOLDER, own, T0) == 25_000 + 25_000
    assert await wallet_spendable(uow, HOLDER, None, T0) == 25_000
