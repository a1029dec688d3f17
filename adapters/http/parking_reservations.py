"""Reservations over HTTP: make (apps, for their drivers), read, honour on arrival,
cancel, and mark a no-show (the operator's terminal, or an admin).

A reservation holds its expected fee in the driver's wallet; the no-show rule
(`domain.model.parking.reservations.NoShowRule`) decides what a late cancellation or a
no-show costs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec

from adapters.http.idempotency import run_write
from adapters.http.parking_views import (
    Label,
    Plate,
    SessionView,
    VehicleClassName,
    at_its_place,
    channel_of,
    check_place,
    path_id,
)
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from domain.model.clients import Role
from domain.model.parking import BookingRequest, Reservation, VehicleClass
from domain.services.parking_reservations import (
    CloseReservation,
    HonourReservation,
    MakeReservation,
    cancel_reservation,
    honour_reservation,
    make_reservation,
    mark_no_show,
    reservation_view,
)
from domain.services.unit_of_work import UnitOfWork, UseCase, execute

Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class ReservationBody(Body):
    lot_code: Label
    reference: Label
    zone: Label
    vehicle_class: VehicleClassName
    plate: Plate
    driver_id: Label
    start: Moment
    end: Moment


class HonourBody(Body):
    reference: Label  # the session that starts
    plate: Plate | None = None  # when the attendant read it: it must be the booked one


class ReservationView(Answer):
    reservation_id: str
    lot_id: str
    zone: str
    vehicle_class: VehicleClassName
    plate: str
    status: str
    start: str
    end: str
    arrive_from: str
    arrive_by: str
    free_cancel_until: str
    hold_id: str
    held_vnd: int
    no_show_fee_vnd: int
    fee_vnd: int
    session_id: str | None
    session: SessionView | None = None


def _view(result: dict[str, Any]) -> ReservationView:
    return msgspec.convert(result, ReservationView)


async def post_reservation(call: Call) -> Reply:
    body: ReservationBody = call.body
    check_place(call.caller, body.lot_code)
    booking = BookingRequest(
        body.reference, body.zone, VehicleClass(body.vehicle_class), body.plate, body.driver_id, body.start, body.end
    )
    return await run_write(call, make_reservation(MakeReservation(body.lot_code, booking, call.at)), _created)


def _created(result: dict[str, Any]) -> tuple[int, ReservationView]:
    return 201, _view(result)


async def get_reservation(call: Call) -> Reply:
    reservation = path_id(call, "reservation_id")

    async def read(uow: UnitOfWork) -> dict[str, Any]:
        return reservation_view(await uow.get(Reservation, reservation))

    result = (await execute(call.services.store, at_its_place(call, Reservation, reservation, read))).result
    return Reply(200, _view(result))


async def post_honour(call: Call) -> Reply:
    body: HonourBody = call.body
    reservation = path_id(call, "reservation_id")
    command = HonourReservation(reservation, body.reference, channel_of(call.caller), call.at, plate=body.plate)
    use_case = at_its_place(call, Reservation, reservation, honour_reservation(command))
    return await run_write(call, use_case, lambda r: (200, _view(r)))


def _closing(close: Callable[[CloseReservation], UseCase]) -> Callable[[Call], Any]:
    async def handler(call: Call) -> Reply:
        reservation = path_id(call, "reservation_id")
        use_case = at_its_place(call, Reservation, reservation, close(CloseReservation(reservation, call.at)))
        return await run_write(call, use_case, lambda r: (200, _view(r)))

    return handler


ROUTES = [
    Route(
        "POST",
        "/v1/parking/reservations",
        post_reservation,
        roles(Role.APP),
        "Book a space for a stay; its expected fee is held in the driver's wallet",
        request=ReservationBody,
        response=ReservationView,
        status=201,
    ),
    Route(
        "GET",
        "/v1/parking/reservations/{reservation_id}",
        get_reservation,
        roles(Role.APP, Role.TERMINAL),
        "A reservation",
        response=ReservationView,
    ),
    Route(
        "POST",
        "/v1/parking/reservations/{reservation_id}/honour",
        post_honour,
        roles(Role.TERMINAL, Role.APP),
        "The booked vehicle arrived: its session starts and adopts the reservation's hold",
        request=HonourBody,
        response=ReservationView,
    ),
    Route(
        "POST",
        "/v1/parking/reservations/{reservation_id}/cancel",
        _closing(cancel_reservation),
        roles(Role.APP),
        "Cancel: free before the free-cancellation deadline, the no-show fee after it",
        response=ReservationView,
    ),
    Route(
        "POST",
        "/v1/parking/reservations/{reservation_id}/no-show",
        _closing(mark_no_show),
        roles(Role.TERMINAL, Role.ADMIN),
        "The vehicle did not come within the arrival window: the no-show fee is taken from the hold",
        response=ReservationView,
    ),
]
