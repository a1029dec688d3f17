"""Wallets on both stores: top-up by QR bank transfer, spends that never overdraw."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.ledger import PartyKind, bank_clearing, payable, refunds_payable, wallet
from domain.model.tickets import PaymentMethod
from domain.model.wallets import InsufficientFunds
from domain.services.fare_capping import tap_pay_as_you_go
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, CollectionAccount, credit_bank_transfer
from domain.services.tickets import purchase_ticket
from domain.services.unit_of_work import UseCase, execute
from domain.services.wallets import request_wallet_topup
from tests.support.ledger import posted_balances
from tests.support.wallets import assert_wallet_agrees_with_ledger, top_up, wallet_state

T0 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
RIDER = "rider-lan"
RIDER_WALLET = wallet(RIDER)
OPERATOR = payable(PartyKind.OPERATOR, "transerco")
TRANSIT = CollectionAccount("970415", "1140000088", "CITY TRANSIT")
BANK = bank_clearing(TRANSIT.bank_bin, TRANSIT.account_no)
DAY_PASS_VND = 40_000


def buy_day_pass(order_id: str, at: datetime = T0) -> UseCase:
    return purchase_ticket(
        order_id=order_id,
        rider_id=RIDER,
        operator_id="transerco",
        product_code="DAY",
        payment_method=PaymentMethod.WALLET,
        at=at,
    )


def tap(vehicle: str, at: datetime) -> UseCase:
    return tap_pay_as_you_go(rider_id=RIDER, fare_code="PAYG", vehicle_id=vehicle, operator_id="transerco", at=at)


async def test_ten_concurrent_purchases_against_a_balance_for_three_sell_exactly_three(store: Any) -> None:
    await top_up(store, RIDER, 3 * DAY_PASS_VND, TRANSIT, T0)

    async def attempt(i: int) -> str:
        try:
            await execute(store, buy_day_pass(f"app-{i}"))
        except InsufficientFunds:
            return "refused"
        return "sold"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(10)))
    assert sorted(outcomes) == ["refused"] * 7 + ["sold"] * 3
    state = await assert_wallet_agrees_with_ledger(store, RIDER)
    assert (state["balance_vnd"], state["reserved_vnd"]) == (0, 0)
    assert await posted_balances(store, RIDER_WALLET, OPERATOR) == {RIDER_WALLET: 0, OPERATOR: 3 * DAY_PASS_VND}


async def test_concurrent_taps_and_purchases_share_one_balance(store: Any) -> None:
    await top_up(store, RIDER, DAY_PASS_VND + 2 * 8_000, TRANSIT, T0)
    # At most three of these can succeed, so every loser's retries stay within execute's bound.
    taps = [tap(f"bus-{i}", T0 + timedelta(minutes=i)) for i in range(3)]
    spends = [buy_day_pass("app-1"), buy_day_pass("app-2"), *taps]

    async def attempt(use_case: UseCase) -> int:
        try:
            return int((await execute(store, use_case)).result.get("charged_vnd", DAY_PASS_VND))
        except InsufficientFunds:
            return 0

    spent = sum(await asyncio.gather(*(attempt(u) for u in spends)))
    state = await assert_wallet_agrees_with_ledger(store, RIDER)
    assert state["balance_vnd"] == DAY_PASS_VND + 2 * 8_000 - spent >= 0
    assert (await posted_balances(store, OPERATOR))[OPERATOR] == spent


async def test_a_top_up_paid_by_qr_bank_transfer_can_then_be_spent(store: Any) -> None:
    requested = (await execute(store, request_wallet_topup(RIDER, 100_000, TRANSIT, T0))).result
    payment = requested["payment"]
    assert (payment["purpose"], payment["purpose_id"], payment["amount_vnd"]) == ("wallet_topup", RIDER, 100_000)
    assert (requested["balance_vnd"], requested["available_vnd"]) == (0, 0)
    again = (await execute(store, request_wallet_topup(RIDER, 100_000, TRANSIT, T0))).result
    assert again["payment"]["reference"] == payment["reference"]  # a re-run finds the same payment

    def notice(tx: str, amount_vnd: int) -> BankNotice:
        return BankNotice(TRANSIT.bank_bin, TRANSIT.account_no, tx, amount_vnd, f"{payment['reference']} nap vi", T0)

    partial = await execute(store, credit_bank_transfer(notice("FT-1", 60_000), T0 + timedelta(minutes=1), ON_PAID))
    assert partial.result["payment"]["status"] == "pending"
    with pytest.raises(InsufficientFunds, match="0 VND available, 40000 VND needed"):
        await execute(store, buy_day_pass("app-1", T0 + timedelta(minutes=2)))  # not spendable until paid in full

    rest = credit_bank_transfer(notice("FT-2", 50_000), T0 + timedelta(minutes=3), ON_PAID)
    assert (await execute(store, rest)).result["outcome"] == "overpaid"
    duplicate = credit_bank_transfer(notice("FT-2", 50_000), T0 + timedelta(minutes=4), ON_PAID)
    assert (await execute(store, duplicate)).result["duplicate"] is True
    assert (await wallet_state(store, RIDER))["balance_vnd"] == 100_000  # the excess is owed back, not topped up

    await execute(store, buy_day_pass("app-1", T0 + timedelta(minutes=5)))
    state = await assert_wallet_agrees_with_ledger(store, RIDER)
    assert state["available_vnd"] == 60_000
    assert await posted_balances(store, BANK, RIDER_WALLET, OPERATOR, refunds_payable()) == {
        BANK: 110_000,
        RIDER_WALLET: 60_000,
        OPERATOR: DAY_PASS_VND,
        refunds_payable(): 10_000,
    }


async def test_spends_without_funds_are_refused_and_write_nothing(store: Any) -> None:
    head = await store.head()
    with pytest.raises(InsufficientFunds) as refused:
        await execute(store, buy_day_pass("app-1"))
    assert (refused.value.status, refused.value.needed_vnd, refused.value.available_vnd) == (402, 40_000, 0)
    with pytest.raises(InsufficientFunds):
        await execute(store, tap("bus-1", T0))
    assert await store.head() == head

    await top_up(store, RIDER, 12_000, TRANSIT, T0)
    assert (await execute(store, tap("bus-1", T0 + timedelta(minutes=1)))).result["charged_vnd"] == 8_000
    with pytest.raises(InsufficientFunds, match="4000 VND available, 8000 VND needed"):
        await execute(store, tap("bus-2", T0 + timedelta(minutes=2)))
    state = await assert_wallet_agrees_with_ledger(store, RIDER)
    assert state["balance_vnd"] == 4_000
