"""Reservation use cases: make, honour, cancel, mark no-show, expire.

Every one of them also writes to the lot (its bookings), the reservation's hold and the
driver's `Wallet` (which reserves the hold's amount, captures a fee from it or releases
it), in the same unit of work; a booking the wallet cannot cover is refused
(`InsufficientFunds`). The no-show rule itself is `domain.model.parking.reservations`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.parking.arrivals import Arrival
from domain.model.parking.common import Channel, lot_id, reservation_id, session_id
from domain.model.parking.lots import ParkingLot
from domain.model.parking.postings import collect_from_hold, release
from domain.model.parking.reservations import BookingRequest, NoShowRule, Reservation
from domain.model.parking.sessions import ParkingSession
from domain.model.transfers import Hold
from domain.services.parking import session_view
from domain.services.unit_of_work import UnitOfWork, UseCase
from domain.services.wallets import guard_hold


@dataclass(frozen=True, slots=True)
class MakeReservation:
    lot_code: str
    booking: BookingRequest
    at: datetime
    rule: NoShowRule = field(default_factory=NoShowRule)


@dataclass(frozen=True, slots=True)
class HonourReservation:
    """The reserved vehicle arrived; ``reference`` names the session that starts."""

    reservation_id: UUID
    reference: str
    channel: Channel
    at: datetime
    device_id: str | None = None
    plate: str | None = None  # when the reporter read it, it must be the booked one


@dataclass(frozen=True, slots=True)
class CloseReservation:
    """Cancel, mark as no-show or expire: all name the reservation and the time."""

    reservation_id: UUID
    at: datetime


def reservation_view(reservation: Reservation) -> dict[str, Any]:
    return {
        "reservation_id": str(reservation.id),
        "lot_id": str(reservation.lot_id),
        "zone": reservation.zone,
        "vehicle_class": reservation.vehicle_class.value,
        "plate": reservation.plate,
        "status": reservation.status.value,
        "start": reservation.start.isoformat(),
        "end": reservation.end.isoformat(),
        "arrive_from": reservation.arrive_from.isoformat(),
        "arrive_by": reservation.arrive_by.isoformat(),
        "free_cancel_until": reservation.free_cancel_until.isoformat(),
        "hold_id": str(reservation.hold_id),
        "held_vnd": reservation.held_vnd,
        "no_show_fee_vnd": reservation.no_show_fee_vnd,
        "fee_vnd": reservation.fee_vnd,
        "session_id": str(reservation.session_id) if reservation.session_id else None,
    }


def make_reservation(cmd: MakeReservation) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, lot_id(cmd.lot_code))
        if await uow.find(Reservation, reservation_id(lot.id, cmd.booking.reference)) is not None:
            raise InvalidTransition(f"reservation {cmd.booking.reference} of lot {cmd.lot_code} already exists")
        reservation, hold = Reservation.make(lot, cmd.booking, cmd.at, cmd.rule)
        await guard_hold(uow, hold, cmd.at)
        uow.add(reservation, hold)
        return reservation_view(reservation)

    return use_case


def honour_reservation(cmd: HonourReservation) -> UseCase:
    """Start the reserved vehicle's session; it adopts the reservation's hold."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        reservation, lot, hold = await _load(uow, cmd.reservation_id)
        if cmd.plate is not None and cmd.plate != reservation.plate:
            raise InvalidValue(f"vehicle {cmd.plate} is not the one booked")
        new_session = session_id(lot.id, cmd.reference)
        if await uow.find(ParkingSession, new_session) is not None:
            raise InvalidTransition(f"session {cmd.reference} of lot {lot.code} has already started")
        reservation.honour(new_session, cmd.at)
        lot.release(reservation.id, cmd.at)
        session, _ = ParkingSession.start(
            lot, _arrival(reservation, lot, cmd), cmd.at, reservation_id=reservation.id, adopted_hold=hold
        )
        uow.add(session)
        return reservation_view(reservation) | {"session": session_view(session)}

    return use_case


def _arrival(reservation: Reservation, lot: ParkingLot, cmd: HonourReservation) -> Arrival:
    schedule = lot.schedule(reservation.zone, reservation.vehicle_class)
    # An early arrival must not stretch the booked stay past the maximum stay.
    expected_end = min(reservation.end, schedule.latest_end(cmd.at))
    return Arrival(
        cmd.reference,
        reservation.zone,
        reservation.vehicle_class,
        reservation.plate,
        cmd.channel,
        device_id=cmd.device_id,
        driver_id=reservation.driver_id,
        expected_end=expected_end if expected_end > cmd.at else None,
    )


def cancel_reservation(cmd: CloseReservation) -> UseCase:
    """Free before the free-cancellation deadline; the no-show fee after it."""
    return _close_collecting_fee(cmd, lambda reservation: reservation.cancel(cmd.at))


def mark_no_show(cmd: CloseReservation) -> UseCase:
    return _close_collecting_fee(cmd, lambda reservation: reservation.mark_no_show(cmd.at))


def _close_collecting_fee(cmd: CloseReservation, close: Callable[[Reservation], int]) -> UseCase:
    """Close the reservation; the fee it names is collected from its hold, the rest released."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        reservation, lot, hold = await _load(uow, cmd.reservation_id)
        collect_from_hold(hold, close(reservation), cmd.at)
        await guard_hold(uow, hold, cmd.at)
        lot.release(reservation.id, cmd.at)
        return reservation_view(reservation)

    return use_case


def expire_reservation(cmd: CloseReservation) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        reservation, lot, hold = await _load(uow, cmd.reservation_id)
        reservation.expire(cmd.at)
        release(hold, "reservation expired", cmd.at)
        await guard_hold(uow, hold, cmd.at)
        lot.release(reservation.id, cmd.at)
        return reservation_view(reservation)

    return use_case


async def _load(uow: UnitOfWork, reservation: UUID) -> tuple[Reservation, ParkingLot, Hold]:
    found = await uow.get(Reservation, reservation)
    return found, await uow.get(ParkingLot, found.lot_id), await uow.get(Hold, found.hold_id)
