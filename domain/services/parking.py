"""Parking use cases: register lots, schedule tariffs, quote, start, extend and end sessions.

Each function takes a command and returns the use case to run:
``execute(store, start_session(command), request_key)``. The ledger
holds and transfers a command causes are added to the same unit of work as the
business events, so they are appended in one atomic write or not at all, together
with the driver's `Wallet` changes that guard them (`domain.services.wallets`): a
prepaid start or an extension whose hold the wallet cannot cover is refused
(`InsufficientFunds`). Commands carry their time (``at``): the use cases read no clock.
Reservations are in `domain.services.parking_reservations`; collecting a fee left due
by QR is in `domain.services.parking_payments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidTransition
from domain.model.parking.arrivals import Arrival
from domain.model.parking.common import Channel, PaymentMethod, VehicleClass, lot_id, session_id
from domain.model.parking.lots import ParkingLot, Spaces
from domain.model.parking.postings import session_cause, settle_fee
from domain.model.parking.quotes import quote
from domain.model.parking.sessions import ParkingSession
from domain.model.parking.tariffs import Tariff
from domain.model.transfers import Hold
from domain.services.unit_of_work import UnitOfWork, UseCase
from domain.services.wallets import guard_hold, guard_transfer, wallet_spendable


@dataclass(frozen=True, slots=True)
class RegisterLot:
    code: str
    operator_id: str
    name: str
    zones: Mapping[str, Mapping[VehicleClass, Spaces]]
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangeSpaces:
    lot_code: str
    zone: str
    vehicle_class: VehicleClass
    spaces: Spaces
    at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleTariff:
    lot_code: str
    zone: str
    tariff: Tariff
    effective_from: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class QuoteStay:
    lot_code: str
    zone: str
    vehicle_class: VehicleClass
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class StartSession:
    lot_code: str
    arrival: Arrival
    at: datetime


@dataclass(frozen=True, slots=True)
class ExtendSession:
    session_id: UUID
    expected_end: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class EndSession:
    session_id: UUID
    method: PaymentMethod
    channel: Channel
    at: datetime
    device_id: str | None = None
    payment_reference: str | None = None  # a cash receipt number or the client's payment reference


def lot_view(lot: ParkingLot) -> dict[str, Any]:
    return {
        "lot_id": str(lot.id),
        "code": lot.code,
        "operator_id": lot.operator_id,
        "zones": {z: {vc.value: s.as_dict() for vc, s in classes.items()} for z, classes in lot.zones.items()},
        "open_bookings": len(lot.bookings),
    }


def session_view(session: ParkingSession) -> dict[str, Any]:
    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "session_id": str(session.id),
        "lot_id": str(session.lot_id),
        "zone": session.zone,
        "vehicle_class": session.vehicle_class.value,
        "plate": session.plate,
        "status": session.status.value,
        "started_at": iso(session.started_at),
        "expected_end": iso(session.expected_end),
        "reservation_id": str(session.reservation_id) if session.reservation_id else None,
        "hold_id": str(session.hold_id) if session.hold_id else None,
        "held_vnd": session.held_vnd,
        "ended_at": iso(session.ended_at),
        "fee_vnd": session.fee_vnd,
        "segments": [s.as_dict() for s in session.segments],
        "payment_method": session.payment_method.value if session.payment_method else None,
        "payment_reference": session.payment_reference,
        "amount_due_vnd": session.amount_due_vnd,
        "overstayed": session.overstayed,
        "billed_until": iso(session.billed_until),
        "billing_capped": session.billing_capped,
    }


def register_lot(cmd: RegisterLot) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if await uow.find(ParkingLot, lot_id(cmd.code)) is not None:
            raise InvalidTransition(f"lot {cmd.code} is already registered")
        lot = ParkingLot.register(cmd.code, cmd.operator_id, cmd.name, cmd.zones, cmd.at)
        uow.add(lot)
        return lot_view(lot)

    return use_case


def change_spaces(cmd: ChangeSpaces) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, lot_id(cmd.lot_code))
        lot.change_spaces(cmd.zone, cmd.vehicle_class, cmd.spaces, cmd.at)
        return lot_view(lot)

    return use_case


def schedule_tariff(cmd: ScheduleTariff) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, lot_id(cmd.lot_code))
        lot.schedule_tariff(cmd.zone, cmd.tariff, cmd.effective_from, cmd.at)
        return lot_view(lot) | {"tariff": cmd.tariff.as_dict(), "effective_from": cmd.effective_from.isoformat()}

    return use_case


def quote_stay(cmd: QuoteStay) -> UseCase:
    """The fee of a planned stay under the lot's schedule; writes nothing."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, lot_id(cmd.lot_code))
        schedule = lot.schedule(cmd.zone, cmd.vehicle_class)
        schedule.check_stay(cmd.start, cmd.end)
        return quote(schedule, cmd.start, cmd.end).as_dict()

    return use_case


def start_session(cmd: StartSession) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, lot_id(cmd.lot_code))
        return session_view(await begin_session(uow, lot, cmd.arrival, cmd.at))

    return use_case


async def begin_session(uow: UnitOfWork, lot: ParkingLot, arrival: Arrival, at: datetime) -> ParkingSession:
    """Start a session in ``lot`` within ``uow`` (the use case's step, for use cases that
    start many, as a meter batch does, without a view of each)."""
    if await uow.find(ParkingSession, session_id(lot.id, arrival.reference)) is not None:
        raise InvalidTransition(f"session {arrival.reference} of lot {lot.code} has already started")
    session, hold = ParkingSession.start(lot, arrival, at)
    uow.add(session)
    if hold is not None:
        await guard_hold(uow, hold, at)
        uow.add(hold)
    return session


def extend_session(cmd: ExtendSession) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        session = await uow.get(ParkingSession, cmd.session_id)
        lot = await uow.get(ParkingLot, session.lot_id)
        hold = await uow.get(Hold, session.hold_id) if session.hold_id else None
        new_hold = session.extend(cmd.expected_end, cmd.at, lot.schedule(session.zone, session.vehicle_class), hold)
        if new_hold is not None:
            # The replaced hold's money comes back first, so the larger hold may use it.
            assert hold is not None, "only a held session gets a larger hold"
            await guard_hold(uow, hold, cmd.at)
            await guard_hold(uow, new_hold, cmd.at)
            uow.add(new_hold)
        return session_view(session)

    return use_case


def end_session(cmd: EndSession) -> UseCase:
    """End and price the stay; settle cash and wallet fees now, leave a QR fee due.

    By wallet, the hold is captured and the rest debited directly, as far as the wallet
    can pay; what it cannot (an overstay beyond its balance) stays due on the session.
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        session = await uow.get(ParkingSession, cmd.session_id)
        lot = await uow.get(ParkingLot, session.lot_id)
        hold = await uow.get(Hold, session.hold_id) if session.hold_id else None
        spendable = None
        if cmd.method is PaymentMethod.WALLET and session.driver_id is not None:
            spendable = await wallet_spendable(uow, session.driver_id, hold, cmd.at)
        session.end(
            cmd.at,
            lot.schedule(session.zone, session.vehicle_class),
            cmd.method,
            cmd.channel,
            device_id=cmd.device_id,
            payment_reference=cmd.payment_reference,
            wallet_spendable_vnd=spendable,
        )
        paid_now = session.fee_vnd - session.amount_due_vnd
        cause = session_cause(session.id)
        transfers = settle_fee(cause, cmd.method, paid_now, session.operator_id, session.driver_id, hold, cmd.at)
        if hold is not None:  # the hold's money comes back before the wallet pays the rest
            await guard_hold(uow, hold, cmd.at)
        for transfer in transfers:
            await guard_transfer(uow, transfer, cmd.at)
        uow.add(*transfers)
        return session_view(session) | {"transfer_ids": [str(t.id) for t in transfers]}

    return use_case
