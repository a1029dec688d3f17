"""Parking paid from the driver's wallet, on both stores: holds the wallet must cover, and
an overstay beyond the balance left due instead of overdrawing the wallet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.model.parking import BookingRequest, Channel, ParkingSession, PaymentMethod, VehicleClass
from domain.model.tickets import PaymentMethod as TicketPayment
from domain.model.transfers import Hold, HoldStatus
from domain.model.wallets import InsufficientFunds
from domain.services.parking import EndSession, ExtendSession, end_session, extend_session
from domain.services.parking_payments import request_session_payment
from domain.services.parking_reservations import (
    CloseReservation,
    MakeReservation,
    cancel_reservation,
    make_reservation,
    mark_no_show,
)
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.tickets import purchase_ticket
from domain.services.unit_of_work import UnitOfWork
from tests.support.parking import (
    CITY,
    DRIVER,
    HOUR,
    LOT,
    MIN,
    OPERATOR_PAYABLE,
    T0,
    app,
    open_lot,
    posted,
    run,
    start,
)
from tests.support.wallets import assert_wallet_agrees_with_ledger, top_up


async def test_a_prepaid_start_the_wallet_cannot_cover_is_refused_and_writes_nothing(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    head = await store.head()
    with pytest.raises(InsufficientFunds, match="0 VND available, 25000 VND needed"):
        await start(store, app("app-1", expected_end=T0 + HOUR))
    assert await store.head() == head

    await top_up(store, DRIVER, 20_000, CITY, T0)
    with pytest.raises(InsufficientFunds, match="20000 VND available, 25000 VND needed"):
        await start(store, app("app-1", expected_end=T0 + HOUR))
    await top_up(store, DRIVER, 10_000, CITY, T0 + MIN)
    await start(store, app("app-1", expected_end=T0 + HOUR), T0 + 2 * MIN)
    state = await assert_wallet_agrees_with_ledger(store, DRIVER)
    assert (state["balance_vnd"], state["reserved_vnd"], state["available_vnd"]) == (30_000, 25_000, 5_000)


async def test_an_extension_the_wallet_cannot_cover_is_refused(store: Any) -> None:
    await open_lot(store, wallet_vnd=100_000)
    session = await start(store, app("app-1", expected_end=T0 + HOUR))
    head = await store.head()
    with pytest.raises(InsufficientFunds, match="100000 VND available, 165000 VND needed"):
        await run(store, extend_session(ExtendSession(session, T0 + 5 * HOUR, T0 + 30 * MIN)))
    assert await store.head() == head
    extended = await run(store, extend_session(ExtendSession(session, T0 + 3 * HOUR, T0 + 30 * MIN)))
    assert extended["held_vnd"] == 85_000
    state = await assert_wallet_agrees_with_ledger(store, DRIVER)
    assert (state["reserved_vnd"], state["available_vnd"]) == (85_000, 15_000)


async def test_an_overstay_beyond_the_balance_is_left_due_and_paid_by_qr(store: Any) -> None:
    await open_lot(store, wallet_vnd=100_000)
    session = await start(store, app("app-1", expected_end=T0 + HOUR))
    ended = await run(store, end_session(EndSession(session, PaymentMethod.WALLET, Channel.APP, T0 + 5 * HOUR)))
    assert (ended["fee_vnd"], ended["amount_due_vnd"], ended["overstayed"]) == (165_000, 65_000, True)
    state = await assert_wallet_agrees_with_ledger(store, DRIVER)
    assert (state["balance_vnd"], state["reserved_vnd"]) == (0, 0)  # the hold and the rest of the balance

    requested = await run(store, request_session_payment(session, CITY, T0 + 5 * HOUR))
    assert (requested["amount_due_vnd"], requested["payment"]["amount_vnd"]) == (65_000, 65_000)
    reference = requested["payment"]["reference"]
    notice = BankNotice(CITY.bank_bin, CITY.account_no, "FT-DUE", 65_000, reference, T0 + 5 * HOUR)
    assert (await run(store, credit_bank_transfer(notice, T0 + 5 * HOUR + MIN, ON_PAID)))["payment"]["status"] == "paid"
    assert (await posted(store, OPERATOR_PAYABLE))[OPERATOR_PAYABLE] == 165_000


async def test_reservation_holds_are_reserved_captured_and_released_in_the_wallet(store: Any) -> None:
    await open_lot(store, wallet_vnd=60_000)
    start_at = T0 + 2 * HOUR

    async def reserve(reference: str) -> UUID:
        booking = BookingRequest(reference, "A", VehicleClass.CAR, "30A-123.45", DRIVER, start_at, start_at + 2 * HOUR)
        return UUID((await run(store, make_reservation(MakeReservation(LOT, booking, T0))))["reservation_id"])

    first = await reserve("r-1")
    with pytest.raises(InsufficientFunds, match="10000 VND available, 50000 VND needed"):
        await reserve("r-2")
    assert (await run(store, cancel_reservation(CloseReservation(first, T0 + MIN))))["fee_vnd"] == 0
    assert (await assert_wallet_agrees_with_ledger(store, DRIVER))["available_vnd"] == 60_000

    absent = await reserve("r-2")
    assert (await run(store, mark_no_show(CloseReservation(absent, start_at + 15 * MIN))))["fee_vnd"] == 25_000
    state = await assert_wallet_agrees_with_ledger(store, DRIVER)
    assert (state["balance_vnd"], state["reserved_vnd"]) == (35_000, 0)


async def test_a_lapsed_hold_comes_back_to_the_next_spend(store: Any) -> None:
    await open_lot(store, wallet_vnd=300_000)
    session = await start(store, app("app-1"))  # open-ended: a day's cap is held
    assert (await assert_wallet_agrees_with_ledger(store, DRIVER))["available_vnd"] == 0
    lapsed_at = T0 + 2 * timedelta(days=1)  # the hold lasts the day it covers and a day of slack
    bought = purchase_ticket(
        order_id="app-t1",
        rider_id=DRIVER,
        operator_id="transerco",
        product_code="DAY",
        payment_method=TicketPayment.WALLET,
        at=lapsed_at,
    )
    await run(store, bought)

    async def hold_status(uow: UnitOfWork) -> dict[str, Any]:
        held = (await uow.get(ParkingSession, session)).hold_id
        assert held is not None
        return {"status": (await uow.get(Hold, held)).status.value}

    assert await run(store, hold_status) == {"status": HoldStatus.EXPIRED.value}
    state = await assert_wallet_agrees_with_ledger(store, DRIVER)
    assert (state["balance_vnd"], state["reserved_vnd"]) == (260_000, 0)
