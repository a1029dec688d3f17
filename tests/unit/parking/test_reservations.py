from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, payable, wallet
from domain.model.parking import BookingRequest, NoShowRule, ParkingLot, Reservation, ReservationStatus, VehicleClass
from domain.model.parking.postings import collect_from_hold, release
from domain.model.transfers import Hold, HoldStatus
from tests.unit.parking.factories import DRIVER, HOUR, MIN, OPERATOR, T0, registered_lot, replayed

START = T0 + 2 * HOUR  # 10:00 local; arrival from 09:30 until 10:15, free cancellation until 09:00


def booking(reference: str = "res-1", **changes: Any) -> BookingRequest:
    fields: dict[str, Any] = {
        "reference": reference,
        "zone": "A",
        "vehicle_class": VehicleClass.CAR,
        "plate": "30A-123.45",
        "driver_id": DRIVER,
        "start": START,
        "end": START + 2 * HOUR,
    }
    return BookingRequest(**(fields | changes))


def make(lot: ParkingLot | None = None, **changes: Any) -> tuple[Reservation, Hold, ParkingLot]:
    lot = lot or registered_lot()
    reservation, hold = Reservation.make(lot, booking(**changes), T0)
    return reservation, hold, lot


def test_a_reservation_books_a_space_and_holds_the_stays_fee() -> None:
    reservation, hold, lot = make()
    assert reservation.status is ReservationStatus.BOOKED
    assert reservation.id in lot.bookings
    assert (hold.debit_account, hold.credit_account) == (wallet(DRIVER), payable(PartyKind.OPERATOR, OPERATOR))
    assert hold.amount_vnd == reservation.held_vnd == 50_000
    assert reservation.no_show_fee_vnd == 25_000  # the first hour of the booked stay
    assert (reservation.arrive_from, reservation.arrive_by) == (START - 30 * MIN, START + 15 * MIN)
    assert reservation.free_cancel_until == START - HOUR
    assert hold.expires_at == reservation.hold_expires_at == START + 2 * HOUR + timedelta(days=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": T0}, "in the future"),
        ({"start": T0 + timedelta(days=7, minutes=1), "end": T0 + timedelta(days=7, hours=2)}, "7 days ahead"),
        ({"end": START + 25 * HOUR}, "maximum stay"),
        ({"end": START + 5 * MIN}, "free stay"),
        ({"plate": ""}, "plate"),
        ({"driver_id": ""}, "driver_id"),
        ({"vehicle_class": VehicleClass.MOTORBIKE, "zone": "B"}, "no motorbike spaces"),
    ],
)
def test_bad_reservations_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        make(**changes)


def test_a_reservation_is_refused_when_no_reservable_space_is_left() -> None:
    lot = registered_lot()  # two reservable car spaces in zone A
    make(lot, reference="r1")
    make(lot, reference="r2", start=START + HOUR, end=START + 3 * HOUR)
    with pytest.raises(InvalidTransition, match="no reservable car space"):
        make(lot, reference="r3", start=START + HOUR + 30 * MIN, end=START + 2 * HOUR)
    assert len(lot.bookings) == 2


def test_arrival_within_the_window_honours_the_reservation() -> None:
    reservation, _, _ = make()
    session = uuid4()
    reservation.honour(session, START - 30 * MIN)
    assert (reservation.status, reservation.session_id) == (ReservationStatus.HONOURED, session)
    with pytest.raises(InvalidTransition, match="honoured, not booked"):
        reservation.honour(uuid4(), START)


@pytest.mark.parametrize("at", [START - 31 * MIN, START + 15 * MIN])
def test_arrival_outside_the_window_is_refused(at: datetime) -> None:
    reservation, _, _ = make()
    with pytest.raises(InvalidTransition, match="arrival is accepted from"):
        reservation.honour(uuid4(), at)


def test_cancelling_in_time_is_free_and_voids_the_hold() -> None:
    reservation, hold, _ = make()
    collect_from_hold(hold, reservation.cancel(START - HOUR - MIN), START - HOUR - MIN)
    assert (reservation.status, reservation.fee_vnd, hold.status) == (ReservationStatus.CANCELLED, 0, HoldStatus.VOIDED)


def test_cancelling_late_costs_the_no_show_fee() -> None:
    reservation, hold, _ = make()
    collect_from_hold(hold, reservation.cancel(START - HOUR), START - HOUR)
    assert (reservation.fee_vnd, hold.status, hold.posted_vnd) == (25_000, HoldStatus.POSTED, 25_000)


def test_cancelling_after_the_window_closed_is_refused() -> None:
    reservation, _, _ = make()
    with pytest.raises(InvalidTransition, match="no-show"):
        reservation.cancel(START + 15 * MIN)


def test_a_no_show_is_charged_once_the_window_has_closed() -> None:
    reservation, hold, _ = make()
    with pytest.raises(InvalidTransition, match="may still arrive"):
        reservation.mark_no_show(START + 14 * MIN)
    collect_from_hold(hold, reservation.mark_no_show(START + 15 * MIN), START + 15 * MIN)
    assert (reservation.status, reservation.fee_vnd) == (ReservationStatus.NO_SHOW, 25_000)
    assert hold.posted_vnd == 25_000
    with pytest.raises(InvalidTransition, match="no_show, not booked"):
        reservation.mark_no_show(START + HOUR)


def test_a_no_show_cannot_be_charged_from_a_lapsed_hold() -> None:
    reservation, _, _ = make()
    with pytest.raises(InvalidTransition, match="can only expire"):
        reservation.mark_no_show(reservation.hold_expires_at)


def test_a_reservation_nobody_acted_on_expires_with_its_hold() -> None:
    reservation, hold, _ = make()
    with pytest.raises(InvalidTransition, match="not lapsed yet"):
        reservation.expire(reservation.hold_expires_at - MIN)
    reservation.expire(reservation.hold_expires_at)
    release(hold, "reservation expired", reservation.hold_expires_at)
    assert (reservation.status, hold.status) == (ReservationStatus.EXPIRED, HoldStatus.EXPIRED)
    with pytest.raises(InvalidTransition, match="expired, not booked"):
        reservation.cancel(reservation.hold_expires_at)


def test_a_reservation_cannot_change_before_it_was_made() -> None:
    reservation, _, _ = make()
    with pytest.raises(InvalidValue, match="before it was made"):
        reservation.cancel(T0 - MIN)


def test_the_no_show_rule_is_bounded() -> None:
    with pytest.raises(InvalidValue, match="minutes"):
        NoShowRule(fee_minutes=-1)
    with pytest.raises(InvalidValue, match="max_ahead_days"):
        NoShowRule(max_ahead_days=0)
    with pytest.raises(InvalidValue, match="whole number"):
        NoShowRule(max_ahead_days=True)


def test_a_stricter_rule_is_fixed_into_the_reservation() -> None:
    lot = registered_lot()
    rule = NoShowRule(arrival_grace_minutes=0, free_cancel_minutes=24 * 60, fee_minutes=24 * 60)
    reservation, _ = Reservation.make(lot, booking(), T0, rule)
    assert reservation.no_show_fee_vnd == reservation.held_vnd == 50_000  # capped by what is held
    assert reservation.arrive_by == START
    assert reservation.cancel(T0 + MIN) == 50_000


CLOSINGS: dict[str, Callable[[Reservation], object]] = {
    "honoured": lambda r: r.honour(uuid4(), START),
    "cancelled": lambda r: r.cancel(T0 + MIN),
    "no-show": lambda r: r.mark_no_show(START + HOUR),
    "expired": lambda r: r.expire(r.hold_expires_at),
}


@pytest.mark.parametrize("closing", CLOSINGS)
def test_replaying_a_reservation_reproduces_it(closing: str) -> None:
    reservation, _, _ = make()
    CLOSINGS[closing](reservation)
    assert replayed(reservation, list(reservation.collect_events())) == reservation
