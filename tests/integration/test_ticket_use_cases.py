"""E-tickets and pay-as-you-go riding through the use cases, on both stores."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.model.errors import InvalidTransition
from domain.model.ledger import PartyKind, bank_clearing, payable, refunds_payable, wallet
from domain.model.payments import PaymentPurpose
from domain.model.tickets import PaymentMethod, RefusalReason, TicketRefused, ticket_id
from domain.services.fare_capping import tap_pay_as_you_go
from domain.services.payments import BankNotice, CollectionAccount, credit_bank_transfer, new_payment
from domain.services.tickets import (
    activate_ticket,
    confirm_ticket_payment,
    expire_ticket,
    on_ticket_paid,
    purchase_ticket,
    purchase_ticket_by_qr,
    refund_ticket,
    validate_ticket,
)
from domain.services.unit_of_work import RequestKey, UnitOfWork, UseCase, execute
from tests.support import wallets
from tests.support.ledger import posted_balances

T0 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
RIDER = "rider-lan"
RIDER_WALLET = wallet(RIDER)
OPERATOR = payable(PartyKind.OPERATOR, "transerco")
TRANSIT = CollectionAccount("970415", "1140000088", "CITY TRANSIT")
BANK = bank_clearing(TRANSIT.bank_bin, TRANSIT.account_no)
ON_PAID = {PaymentPurpose.TICKET: on_ticket_paid}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def buy(order_id: str, product_code: str = "MONTH", method: PaymentMethod = PaymentMethod.WALLET) -> UseCase:
    return purchase_ticket(
        order_id=order_id,
        rider_id=RIDER,
        operator_id="transerco",
        product_code=product_code,
        payment_method=method,
        at=T0,
    )


async def top_up(store: Any, amount_vnd: int) -> None:
    """Money the rider put in their wallet by a QR bank transfer, before the day's trips."""
    await wallets.top_up(store, RIDER, amount_vnd, TRANSIT, T0 - timedelta(hours=1))


async def test_wallet_purchase_rides_and_pro_rata_refund(store: Any) -> None:
    await top_up(store, 500_000)
    bought = (await execute(store, buy("app-1"))).result
    assert (bought["status"], bought["paid_vnd"]) == ("issued", 200_000)
    tid = UUID(bought["ticket_id"])
    ride = (await execute(store, validate_ticket(tid, "bus-32-001", T0 + minutes(5)))).result
    assert (ride["status"], ride["ride_no"]) == ("active", 1)
    assert (await execute(store, validate_ticket(tid, "bus-09-114", T0 + minutes(40)))).result["ride_no"] == 2
    refunded = (await execute(store, refund_ticket(tid, "moved to Da Nang", T0 + timedelta(days=3)))).result
    assert (refunded["status"], refunded["refunded_vnd"]) == ("refunded", 200_000 * 26 // 30)
    assert await posted_balances(store, RIDER_WALLET, OPERATOR, refunds_payable()) == {
        RIDER_WALLET: 300_000,
        OPERATOR: 200_000 - 173_333,
        refunds_payable(): 173_333,
    }
    assert (await wallets.assert_wallet_agrees_with_ledger(store, RIDER))["balance_vnd"] == 300_000


async def test_refused_rides_record_nothing(store: Any) -> None:
    await top_up(store, 300_000)
    single = UUID((await execute(store, buy("app-2", "SINGLE"))).result["ticket_id"])
    await execute(store, activate_ticket(single, T0 + minutes(1)))
    await execute(store, validate_ticket(single, "bus-1", T0 + minutes(2)))
    month = UUID((await execute(store, buy("app-2m", "MONTH"))).result["ticket_id"])
    await execute(store, validate_ticket(month, "bus-1", T0 + minutes(2)))
    head = await store.head()
    for tid, at, reason in [
        (single, T0 + minutes(10), RefusalReason.ALREADY_USED),
        (month, T0 + minutes(10), RefusalReason.PASSBACK),
        (month, T0 + timedelta(days=31), RefusalReason.VALIDITY_ENDED),
    ]:
        with pytest.raises(TicketRefused) as refused:
            await execute(store, validate_ticket(tid, "bus-1", at))
        assert refused.value.reason is reason
    assert await store.head() == head


async def test_qr_purchase_is_paid_by_the_bank_credit(store: Any) -> None:
    bought = (
        await execute(
            store,
            purchase_ticket_by_qr(
                order_id="kiosk-7",
                rider_id=RIDER,
                operator_id="transerco",
                product_code="SINGLE-STU",
                collection=TRANSIT,
                at=T0,
                concession_evidence="HUST-20231234",
            ),
        )
    ).result
    assert bought["status"] == "awaiting_payment"
    payment = bought["payment"]
    assert (payment["amount_vnd"], payment["purpose_id"]) == (3_000, bought["ticket_id"])
    assert payment["expires_at"] == bought["pay_by"]
    notice = BankNotice(TRANSIT.bank_bin, TRANSIT.account_no, "FT26068", 3_000, f"{payment['reference']} ve xe", T0)
    credited = await execute(store, credit_bank_transfer(notice, T0 + minutes(2), ON_PAID))
    assert credited.result["outcome"] == "exact"
    ride = (await execute(store, validate_ticket(UUID(bought["ticket_id"]), "bus-1", T0 + minutes(3)))).result
    assert (ride["payment_reference"], ride["status"]) == (payment["reference"], "active")
    assert await posted_balances(store, BANK, OPERATOR) == {BANK: 3_000, OPERATOR: 3_000}


async def test_a_payment_the_ticket_cannot_take_goes_to_refunds(store: Any) -> None:
    bought = (await execute(store, buy("app-3", "DAY", PaymentMethod.QR))).result
    tid = UUID(bought["ticket_id"])
    await execute(store, expire_ticket(tid, T0 + minutes(30)))

    async def slow_payment(uow: UnitOfWork) -> dict[str, Any]:  # a payment that outlived its ticket
        made = await new_payment(
            uow,
            request_id=tid,
            amount_vnd=40_000,
            payee_account=OPERATOR,
            purpose=PaymentPurpose.TICKET,
            purpose_id=str(tid),
            collection=TRANSIT,
            at=T0,
            ttl=timedelta(hours=2),
        )
        return {"reference": made.reference}

    reference = (await execute(store, slow_payment)).result["reference"]
    notice = BankNotice(TRANSIT.bank_bin, TRANSIT.account_no, "FT9", 40_000, reference, T0 + minutes(45))
    await execute(store, credit_bank_transfer(notice, T0 + minutes(45), ON_PAID))
    assert await posted_balances(store, BANK, OPERATOR, refunds_payable()) == {
        BANK: 40_000,
        OPERATOR: 0,
        refunds_payable(): 40_000,
    }


async def test_confirming_a_payment_twice_changes_nothing_the_second_time(store: Any) -> None:
    tid = UUID((await execute(store, buy("app-4", "DAY", PaymentMethod.QR))).result["ticket_id"])
    first = await execute(store, confirm_ticket_payment(tid, "PAY7", 40_000, T0 + minutes(1)))
    head = await store.head()
    again = await execute(store, confirm_ticket_payment(tid, "PAY7", 40_000, T0 + minutes(2)))
    assert again.result == first.result
    assert await store.head() == head
    with pytest.raises(InvalidTransition):
        await execute(store, confirm_ticket_payment(tid, "PAY8", 40_000, T0 + minutes(3)))
    assert await posted_balances(store, OPERATOR) == {OPERATOR: 0}  # QR money is posted by payments


async def test_retried_purchases_find_the_same_ticket(store: Any) -> None:
    await top_up(store, 100_000)
    key = RequestKey.of("app", "idem-1", {"order": "app-5"})
    first = await execute(store, buy("app-5", "DAY"), key)
    replayed = await execute(store, buy("app-5", "DAY"), key)
    assert replayed.replayed
    assert replayed.result == first.result
    head = await store.head()
    assert (await execute(store, buy("app-5", "DAY"))).result == first.result  # no key: the order id names it
    assert await store.head() == head
    with pytest.raises(InvalidTransition):
        await execute(store, buy("app-5", "MONTH"))
    assert first.result["ticket_id"] == str(ticket_id("app-5"))
    assert await posted_balances(store, RIDER_WALLET, OPERATOR) == {RIDER_WALLET: 60_000, OPERATOR: 40_000}


async def test_unpaid_and_unused_tickets_expire(store: Any) -> None:
    await top_up(store, 40_000)
    unpaid = UUID((await execute(store, buy("app-6", "SINGLE", PaymentMethod.QR))).result["ticket_id"])
    with pytest.raises(InvalidTransition):
        await execute(store, expire_ticket(unpaid, T0 + minutes(29)))
    assert (await execute(store, expire_ticket(unpaid, T0 + minutes(30)))).result["status"] == "expired"
    day = UUID((await execute(store, buy("app-7", "DAY"))).result["ticket_id"])
    await execute(store, validate_ticket(day, "bus-1", T0))
    ended = (await execute(store, expire_ticket(day, T0 + timedelta(hours=19)))).result  # 03:00 next day
    assert ended["status"] == "expired"


def tap(vehicle: str, at: datetime, fare_code: str = "PAYG") -> UseCase:
    return tap_pay_as_you_go(rider_id=RIDER, fare_code=fare_code, vehicle_id=vehicle, operator_id="transerco", at=at)


async def test_pay_as_you_go_is_capped_per_service_day(store: Any) -> None:
    await top_up(store, 50_000)
    taps = [(await execute(store, tap(f"bus-{i}", T0 + minutes(30 * i)))).result for i in range(7)]
    assert [t["charged_vnd"] for t in taps] == [8_000] * 5 + [0, 0]
    assert taps[-1]["capped"] is True
    with pytest.raises(TicketRefused):
        await execute(store, tap("bus-6", T0 + minutes(30 * 6 + 5)))
    next_day = (await execute(store, tap("bus-1", T0 + timedelta(days=1), "PAYG-STU"))).result
    assert (next_day["charged_vnd"], next_day["fare_code"]) == (3_000, "PAYG-STU")
    assert await posted_balances(store, RIDER_WALLET, OPERATOR) == {RIDER_WALLET: 50_000 - 43_000, OPERATOR: 43_000}


async def test_concurrent_taps_are_each_charged_once(store: Any) -> None:
    await top_up(store, 50_000)
    results = await asyncio.gather(*(execute(store, tap(f"bus-{i}", T0 + minutes(i))) for i in range(4)))
    assert sorted(r.result["tap_no"] for r in results) == [1, 2, 3, 4]
    assert await posted_balances(store, RIDER_WALLET, OPERATOR) == {RIDER_WALLET: 50_000 - 32_000, OPERATOR: 32_000}
