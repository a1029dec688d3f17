"""Fees captured from a wallet hold reach settlement like any other payable posting."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.model.parking import BookingRequest, Channel, PaymentMethod, VehicleClass
from domain.services.parking import EndSession, end_session
from domain.services.parking_reservations import CloseReservation, MakeReservation, make_reservation, mark_no_show
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.figures import PayableDay
from tests.support.parking import DRIVER, HOUR, LOT, MIN, OPERATOR_PAYABLE, T0, app, open_lot, posted, run, start
from tests.support.settlement import claim_for

CALENDAR = SettlementCalendar()


async def figures(store: Any) -> PayableDay:
    return (await claim_for(store, OPERATOR_PAYABLE, CALENDAR.business_date(T0), CALENDAR)).figures


async def test_a_wallet_paid_stay_and_a_no_show_fee_are_in_the_operators_figures(store: Any) -> None:
    await open_lot(store)
    session = await start(store, app("app-1", expected_end=T0 + HOUR))
    await run(store, end_session(EndSession(session, PaymentMethod.WALLET, Channel.APP, T0 + 50 * MIN)))
    start_at = T0 + 2 * HOUR
    booking = BookingRequest("r-1", "A", VehicleClass.CAR, "30A-123.45", DRIVER, start_at, start_at + 2 * HOUR)
    reserved = await run(store, make_reservation(MakeReservation(LOT, booking, T0)))
    await run(store, mark_no_show(CloseReservation(UUID(reserved["reservation_id"]), start_at + 15 * MIN)))

    owed = (await posted(store, OPERATOR_PAYABLE))[OPERATOR_PAYABLE]
    assert owed == 25_000 + 25_000  # the stay's hold captured, the no-show fee captured
    day = await figures(store)
    assert (day.gross_vnd, day.net_vnd, day.transfers) == (owed, owed, 2)
