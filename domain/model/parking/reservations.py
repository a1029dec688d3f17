"""Pre-booking a space: a reservation holds the booked stay's fee in the driver's wallet.

The no-show rule (`NoShowRule`, fixed into each reservation when it is made):
- the driver may arrive from ``early_arrival_minutes`` before the booked start until
  ``arrival_grace_minutes`` after it; arriving then honours the reservation, and the
  session that starts adopts the hold, which pays its fee when it ends;
- cancelling until ``free_cancel_minutes`` before the start is free (the hold is voided);
  a later cancellation, or not arriving at all (marked once the arrival window has
  closed), costs the no-show fee: the price of the first ``fee_minutes`` of the booked
  stay, posted from the hold (the rest of the hold is released);
- a reservation nobody acted on until its hold lapsed expires: the hold expires, no fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.parking.arrivals import MAX_PLATE_LEN
from domain.model.parking.common import HOLD_SLACK, VehicleClass, aware, label, reservation_id
from domain.model.parking.lots import ParkingLot
from domain.model.parking.postings import RESERVATION_HOLD_KIND, place_wallet_hold, reservation_cause
from domain.model.parking.quotes import quote
from domain.model.transfers import Hold


@dataclass(frozen=True, slots=True)
class NoShowRule:
    early_arrival_minutes: int = 30
    arrival_grace_minutes: int = 15
    free_cancel_minutes: int = 60
    fee_minutes: int = 60
    max_ahead_days: int = 7  # bounds the open bookings a lot must keep

    def __post_init__(self) -> None:
        minutes = (self.early_arrival_minutes, self.arrival_grace_minutes, self.free_cancel_minutes, self.fee_minutes)
        if any(isinstance(m, bool) or not isinstance(m, int) or not 0 <= m <= 24 * 60 for m in minutes):
            raise InvalidValue("no-show rule minutes must be whole numbers in 0..1440")
        if isinstance(self.max_ahead_days, bool) or not isinstance(self.max_ahead_days, int):
            raise InvalidValue("max_ahead_days must be a whole number")
        if not 1 <= self.max_ahead_days <= 90:
            raise InvalidValue("max_ahead_days must be in 1..90")


class ReservationStatus(StrEnum):
    BOOKED = "booked"
    HONOURED = "honoured"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What a driver asks to book."""

    reference: str
    zone: str
    vehicle_class: VehicleClass
    plate: str
    driver_id: str
    start: datetime
    end: datetime


class Reservation(Aggregate):
    """A booked space for a stay, backed by a hold on the driver's wallet.

    Invariants:
    - its id is ``uuid5`` of the lot and the driver's reference; the lot counts it among
      its bookings while it is booked, and no longer once it ends;
    - it is booked until it ends exactly once: honoured (within the arrival window, by one
      session that adopts the hold), cancelled (before the window closes), marked no-show
      (after the window closed, while the hold is open) or expired (once the hold lapsed);
    - ``0 <= no_show_fee_vnd <= held_vnd``, both fixed when it is made; a fee charged is
      free (0) or exactly the no-show fee.
    """

    class Made(Aggregate.Created):
        lot_id: UUID
        operator_id: str
        zone: str
        vehicle_class: str
        plate: str
        driver_id: str
        start: datetime
        end: datetime
        arrive_from: datetime
        arrive_by: datetime
        free_cancel_until: datetime
        no_show_fee_vnd: int
        hold_id: UUID
        held_vnd: int
        hold_expires_at: datetime

    class Honoured(Aggregate.Event):
        session_id: UUID

        def apply(self, aggregate: Reservation) -> None:
            aggregate.status = ReservationStatus.HONOURED
            aggregate.session_id = self.session_id

    class Cancelled(Aggregate.Event):
        fee_vnd: int

        def apply(self, aggregate: Reservation) -> None:
            aggregate.status = ReservationStatus.CANCELLED
            aggregate.fee_vnd = self.fee_vnd

    class NoShowCharged(Aggregate.Event):
        fee_vnd: int

        def apply(self, aggregate: Reservation) -> None:
            aggregate.status = ReservationStatus.NO_SHOW
            aggregate.fee_vnd = self.fee_vnd

    class Expired(Aggregate.Event):
        def apply(self, aggregate: Reservation) -> None:
            aggregate.status = ReservationStatus.EXPIRED

    def __init__(
        self,
        lot_id: UUID,
        operator_id: str,
        zone: str,
        vehicle_class: str,
        plate: str,
        driver_id: str,
        start: datetime,
        end: datetime,
        arrive_from: datetime,
        arrive_by: datetime,
        free_cancel_until: datetime,
        no_show_fee_vnd: int,
        hold_id: UUID,
        held_vnd: int,
        hold_expires_at: datetime,
    ) -> None:
        self.lot_id = lot_id
        self.operator_id = operator_id
        self.zone = zone
        self.vehicle_class = VehicleClass(vehicle_class)
        self.plate = plate
        self.driver_id = driver_id
        self.start = start
        self.end = end
        self.arrive_from = arrive_from
        self.arrive_by = arrive_by
        self.free_cancel_until = free_cancel_until
        self.no_show_fee_vnd = no_show_fee_vnd
        self.hold_id = hold_id
        self.held_vnd = held_vnd
        self.hold_expires_at = hold_expires_at
        self.status = ReservationStatus.BOOKED
        self.session_id: UUID | None = None
        self.fee_vnd = 0

    @classmethod
    def make(
        cls, lot: ParkingLot, booking: BookingRequest, at: datetime, rule: NoShowRule = NoShowRule()
    ) -> tuple[Reservation, Hold]:
        """Book a space in ``lot`` (which records the booking) and hold the stay's fee."""
        for value, name in ((booking.reference, "reference"), (booking.driver_id, "driver_id")):
            label(value, name)
        label(booking.plate, "plate", MAX_PLATE_LEN)
        start, end = aware(booking.start, "start"), aware(booking.end, "end")
        if not aware(at) < start <= at + timedelta(days=rule.max_ahead_days):
            raise InvalidValue(f"a reservation starts in the future, at most {rule.max_ahead_days} days ahead")
        schedule = lot.schedule(booking.zone, booking.vehicle_class)
        schedule.check_stay(start, end)
        held = quote(schedule, start, end).total_vnd
        if held == 0:
            raise InvalidValue("a free stay needs no reservation")
        fee_end = min(end, start + timedelta(minutes=rule.fee_minutes))
        no_show_fee = min(held, quote(schedule, start, fee_end).total_vnd)
        new_id = reservation_id(lot.id, booking.reference)
        lot.book(new_id, booking.zone, booking.vehicle_class, start, end, at)
        # The hold lasts as long as a session honouring the reservation may need it.
        hold = place_wallet_hold(
            reservation_cause(new_id), RESERVATION_HOLD_KIND, booking.driver_id, lot.operator_id, held, at,
            end + HOLD_SLACK,
        )  # fmt: skip
        reservation = cls._create(
            cls.Made,
            id=new_id,
            timestamp=at,
            lot_id=lot.id,
            operator_id=lot.operator_id,
            zone=booking.zone,
            vehicle_class=booking.vehicle_class.value,
            plate=booking.plate,
            driver_id=booking.driver_id,
            start=start,
            end=end,
            arrive_from=start - timedelta(minutes=rule.early_arrival_minutes),
            arrive_by=start + timedelta(minutes=rule.arrival_grace_minutes),
            free_cancel_until=start - timedelta(minutes=rule.free_cancel_minutes),
            no_show_fee_vnd=no_show_fee,
            hold_id=hold.id,
            held_vnd=held,
            hold_expires_at=hold.expires_at,
        )
        return reservation, hold

    def honour(self, session: UUID, at: datetime) -> None:
        self._require_booked(at)
        if not self.arrive_from <= at < self.arrive_by:
            raise InvalidTransition(
                f"arrival is accepted from {self.arrive_from.isoformat()} until {self.arrive_by.isoformat()}"
            )
        self.trigger_event(self.Honoured, timestamp=at, session_id=session)

    def cancel(self, at: datetime) -> int:
        """Cancel; returns the fee to collect from the hold (0 when in time)."""
        self._require_booked(at)
        if at >= self.arrive_by:
            raise InvalidTransition("the arrival window has closed: the reservation is a no-show")
        fee = 0 if at < self.free_cancel_until else self.no_show_fee_vnd
        self.trigger_event(self.Cancelled, timestamp=at, fee_vnd=fee)
        return fee

    def mark_no_show(self, at: datetime) -> int:
        """Charge the no-show fee; returns it."""
        self._require_booked(at)
        if at < self.arrive_by:
            raise InvalidTransition(f"the driver may still arrive until {self.arrive_by.isoformat()}")
        if at >= self.hold_expires_at:
            raise InvalidTransition("the hold has lapsed: the reservation can only expire")
        self.trigger_event(self.NoShowCharged, timestamp=at, fee_vnd=self.no_show_fee_vnd)
        return self.no_show_fee_vnd

    def expire(self, at: datetime) -> None:
        self._require_booked(at)
        if at < self.hold_expires_at:
            raise InvalidTransition("the reservation's hold has not lapsed yet")
        self.trigger_event(self.Expired, timestamp=at)

    def _require_booked(self, at: datetime) -> None:
        if self.status is not ReservationStatus.BOOKED:
            raise InvalidTransition(f"reservation {self.id} is {self.status}, not booked")
        if aware(at) < self.created_on:
            raise InvalidValue("a reservation cannot change before it was made")
