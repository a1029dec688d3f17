"""What the parking resources share: field types, the session view, a terminal's places."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from adapters.http.auth import Caller
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Answer, Call
from adapters.http.types import Id
from domain.model.clients import Role, within_scope
from domain.model.parking import ParkingLot, ParkingSession, Reservation
from domain.model.parking.common import Channel, lot_id
from domain.services.unit_of_work import UnitOfWork, UseCase

Label = Id
Plate = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
VehicleClassName = Literal["car", "motorbike"]
PaymentMethodName = Literal["cash", "wallet", "qr"]


class SegmentView(Answer):
    start: str
    end: str
    kind: str
    tariff_code: str
    band: str
    day: int  # 1-based 24-hour period of the stay (its daily cap)
    units: int
    unit_vnd: int
    amount_vnd: int


class SessionView(Answer):
    session_id: str
    lot_id: str
    zone: str
    vehicle_class: VehicleClassName
    plate: str
    status: Literal["active", "ended"]
    started_at: str
    expected_end: str | None
    reservation_id: str | None
    hold_id: str | None
    held_vnd: int
    ended_at: str | None
    fee_vnd: int
    segments: list[SegmentView]
    payment_method: PaymentMethodName | None
    payment_reference: str | None
    amount_due_vnd: int
    overstayed: bool
    billed_until: str | None = None  # where billing stopped: the end, or the quote's 366-day bound
    billing_capped: bool = False  # the stay outlasted what can be billed; the operator should look
    transfer_ids: list[str] = []


def channel_of(caller: Caller | None) -> Channel:
    """Who reports a start or an end: an attendant's handheld, or a citizen app."""
    return Channel.ATTENDANT if caller is not None and caller.role is Role.TERMINAL else Channel.APP


def check_place(caller: Caller | None, lot_code: str) -> None:
    """A client whose scope names lots (by code or id) acts only at those (`OutOfScope`, 403)."""
    scope = caller.scope if caller is not None else ()
    if str(lot_id(lot_code)) not in scope:
        within_scope(scope, lot_code)


def path_id(call: Call, name: str) -> UUID:
    """A session's or reservation's id from the path; a malformed one names nothing (404)."""
    try:
        return UUID(call.param(name))
    except ValueError as exc:
        raise Problem(
            404, "Not found", f"no {name.removesuffix('_id')} {call.param(name)!r}", f"{PROBLEM_BASE}not-found"
        ) from exc


def at_its_place(call: Call, kind: type[ParkingSession | Reservation], found: UUID, then: UseCase) -> UseCase:
    """``then``, once the session or reservation is found and the caller may act at its lot."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, (await uow.get(kind, found)).lot_id)
        check_place(call.caller, lot.code)
        return await then(uow)

    return use_case
