"""Parking through the use cases, on both stores: money in the ledger, occupancy, cashless share."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.model.errors import InvalidTransition
from domain.model.parking import (
    BookingRequest,
    Channel,
    ParkingLot,
    PaymentMethod,
    Tariff,
    VehicleClass,
    lot_id,
    quote,
    session_id,
)
from domain.model.transfers import Hold, HoldStatus
from domain.services.parking import (
    ExtendSession,
    QuoteStay,
    StartSession,
    extend_session,
    quote_stay,
    start_session,
)
from domain.services.parking_projections import CashlessShare, LotOccupancy, occupancy_key, share_key
from domain.services.parking_reservations import (
    CloseReservation,
    HonourReservation,
    MakeReservation,
    cancel_reservation,
    expire_reservation,
    honour_reservation,
    make_reservation,
    mark_no_show,
)
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import RequestKey, UnitOfWork, execute
from tests.support.parking import (
    CAR_TARIFF,
    DRIVER,
    DRIVER_WALLET,
    HOUR,
    LOT,
    MIN,
    OPERATOR_CASH,
    OPERATOR_PAYABLE,
    T0,
    app,
    arrival,
    balances,
    end,
    open_lot,
    posted,
    run,
    start,
)
from tests.support.wallets import assert_wallet_agrees_with_ledger


async def test_a_day_of_parking_settles_cash_wallet_and_qr(store: Any) -> None:
    await open_lot(store)
    quoted = await run(store, quote_stay(QuoteStay(LOT, "A", VehicleClass.CAR, T0, T0 + 2 * HOUR + MIN)))
    assert quoted["total_vnd"] == 85_000

    by_cash = await start(store, arrival("gate-1"))
    by_wallet = await start(store, app("app-1", expected_end=T0 + HOUR))
    by_qr = await start(store, arrival("gate-2", plate="29B-555.01"))
    await start(store, arrival("gate-3", vehicle_class=VehicleClass.MOTORBIKE, plate="29X1-001.23"))
    assert (await balances(store, DRIVER_WALLET))[DRIVER_WALLET].available_vnd == 500_000 - 25_000

    extended = await run(store, extend_session(ExtendSession(by_wallet, T0 + 3 * HOUR, T0 + 50 * MIN)))
    assert extended["held_vnd"] == 85_000

    ended = await end(store, by_cash, T0 + 2 * HOUR + MIN, PaymentMethod.CASH)
    assert (ended["fee_vnd"], len(ended["transfer_ids"])) == (85_000, 1)
    assert sum(s["amount_vnd"] for s in ended["segments"]) == 85_000
    assert (await end(store, by_wallet, T0 + 150 * MIN, PaymentMethod.WALLET))["fee_vnd"] == 85_000
    assert (await end(store, by_qr, T0 + 30 * MIN, PaymentMethod.QR))["amount_due_vnd"] == 25_000

    assert await posted(store, OPERATOR_CASH, OPERATOR_PAYABLE, DRIVER_WALLET) == {
        OPERATOR_CASH: 85_000,
        OPERATOR_PAYABLE: 170_000,  # the QR fee is still due: the payments module will credit it
        DRIVER_WALLET: 415_000,
    }
    assert (await balances(store, DRIVER_WALLET))[DRIVER_WALLET].pending_vnd == 0  # both holds are closed
    assert (await assert_wallet_agrees_with_ledger(store, DRIVER))["reserved_vnd"] == 0

    await ProjectionRunner(store, store, LotOccupancy()).catch_up()
    await ProjectionRunner(store, store, CashlessShare()).catch_up()
    lot = lot_id(LOT)
    rows = await store.get_rows(LotOccupancy.name, [occupancy_key(lot)])
    assert rows[occupancy_key(lot)]["classes"] == {
        "car": {"capacity": 50, "occupied": 0},
        "motorbike": {"capacity": 200, "occupied": 1},
    }
    shares = await store.get_rows(CashlessShare.name, [share_key(lot), share_key(lot, "2025-03-03")])
    expected = {"cash_count": 1, "cash_vnd": 85_000, "cashless_count": 2, "cashless_vnd": 110_000}
    assert shares == {share_key(lot): expected, share_key(lot, "2025-03-03"): expected}


async def test_reservations_honoured_no_show_cancelled_and_expired(store: Any) -> None:
    await open_lot(store)
    start_at = T0 + 2 * HOUR

    async def reserve(reference: str, at: datetime = T0) -> UUID:
        booking = BookingRequest(reference, "A", VehicleClass.CAR, "30A-123.45", DRIVER, start_at, start_at + 2 * HOUR)
        return UUID((await run(store, make_reservation(MakeReservation(LOT, booking, at))))["reservation_id"])

    honoured, absent = await reserve("r-1"), await reserve("r-2")
    assert (await balances(store, DRIVER_WALLET))[DRIVER_WALLET].available_vnd == 500_000 - 2 * 50_000

    arrived = await run(
        store, honour_reservation(HonourReservation(honoured, "gate-r1", Channel.GATE, start_at, "gate"))
    )
    assert arrived["status"] == "honoured"
    assert arrived["session"]["hold_id"] == arrived["hold_id"]
    stayed = await end(store, UUID(arrived["session"]["session_id"]), start_at + 3 * HOUR, PaymentMethod.WALLET)
    assert (stayed["fee_vnd"], stayed["overstayed"]) == (85_000, True)  # 50,000 from the hold, 35,000 directly

    no_show = await run(store, mark_no_show(CloseReservation(absent, start_at + 15 * MIN)))
    assert (no_show["status"], no_show["fee_vnd"]) == ("no_show", 25_000)

    free = await reserve("r-3", at=T0 + 2 * MIN)
    assert (await run(store, cancel_reservation(CloseReservation(free, T0 + 3 * MIN))))["fee_vnd"] == 0
    lapsing = await reserve("r-4", at=T0 + 4 * MIN)
    expired_at = start_at + 2 * HOUR + timedelta(days=1)
    with pytest.raises(InvalidTransition, match="not lapsed yet"):
        await run(store, expire_reservation(CloseReservation(lapsing, expired_at - MIN)))
    assert (await run(store, expire_reservation(CloseReservation(lapsing, expired_at))))["status"] == "expired"

    views = await balances(store, DRIVER_WALLET, OPERATOR_PAYABLE)
    assert (views[DRIVER_WALLET].posted_vnd, views[DRIVER_WALLET].pending_vnd) == (500_000 - 110_000, 0)
    assert views[OPERATOR_PAYABLE].posted_vnd == 110_000
    assert (await assert_wallet_agrees_with_ledger(store, DRIVER))["balance_vnd"] == 500_000 - 110_000

    async def open_bookings(uow: UnitOfWork) -> dict[str, Any]:
        return {"bookings": len((await uow.get(ParkingLot, lot_id(LOT))).bookings)}

    assert await run(store, open_bookings) == {"bookings": 0}


async def test_concurrent_reservations_never_overbook_the_reservable_spaces(store: Any) -> None:
    await open_lot(store)  # two reservable car spaces in zone A
    start_at = T0 + 2 * HOUR

    async def attempt(i: int) -> str:
        booking = BookingRequest(f"c-{i}", "A", VehicleClass.CAR, f"30A-000.0{i}", DRIVER, start_at, start_at + HOUR)
        try:
            await run(store, make_reservation(MakeReservation(LOT, booking, T0)))
        except InvalidTransition:
            return "refused"
        return "booked"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(4)))
    assert sorted(outcomes) == ["booked", "booked", "refused", "refused"]
    assert (await balances(store, DRIVER_WALLET))[DRIVER_WALLET].pending_vnd == -2 * 25_000
    assert (await assert_wallet_agrees_with_ledger(store, DRIVER))["reserved_vnd"] == 2 * 25_000


async def test_a_retried_start_replays_and_a_second_report_is_refused(store: Any) -> None:
    await open_lot(store)
    key = RequestKey.of("gate-north", "k-1", {"reference": "gate-7"})
    first = await execute(store, start_session(StartSession(LOT, arrival("gate-7"), T0)), key)
    again = await execute(store, start_session(StartSession(LOT, arrival("gate-7"), T0)), key)
    assert (again.replayed, again.result) == (True, first.result)
    with pytest.raises(InvalidTransition, match="already started"):
        await run(store, start_session(StartSession(LOT, arrival("gate-7"), T0 + MIN)))
    assert first.result["session_id"] == str(session_id(lot_id(LOT), "gate-7"))


async def test_a_lapsed_prepaid_hold_expires_and_the_wallet_pays_directly(store: Any) -> None:
    await open_lot(store)
    session = await start(store, app("app-9", expected_end=T0 + HOUR))
    ended = await end(store, session, T0 + 26 * HOUR, PaymentMethod.WALLET)
    assert ended["overstayed"]

    async def hold_status(uow: UnitOfWork) -> dict[str, Any]:
        hold = await uow.get(Hold, UUID(ended["hold_id"]))
        return {"status": hold.status.value}

    assert await run(store, hold_status) == {"status": HoldStatus.EXPIRED.value}
    assert (await posted(store, DRIVER_WALLET))[DRIVER_WALLET] == 500_000 - ended["fee_vnd"]
    assert (await assert_wallet_agrees_with_ledger(store, DRIVER))["balance_vnd"] == 500_000 - ended["fee_vnd"]


async def test_a_stay_longer_than_a_quote_can_bill_ends_capped_and_flagged(store: Any) -> None:
    await open_lot(store)
    session = await start(store, arrival("gate-abandoned"))
    ended = await end(store, session, T0 + timedelta(days=400), PaymentMethod.CASH)
    billed_until = T0 + timedelta(days=366)
    assert (ended["status"], ended["billing_capped"], ended["billed_until"]) == (
        "ended",
        True,
        billed_until.isoformat(),
    )
    assert ended["fee_vnd"] == quote(Tariff.from_dict(CAR_TARIFF), T0, billed_until).total_vnd == 366 * 300_000
    assert await posted(store, OPERATOR_CASH, OPERATOR_PAYABLE) == {
        OPERATOR_CASH: ended["fee_vnd"],
        OPERATOR_PAYABLE: ended["fee_vnd"],
    }
