"""Parking sessions over HTTP: start, read, extend, end, and pay what an ended one owes.

Terminals (attendants' handhelds) report for the lots in their scope, apps for their
drivers; the channel of a start or an end is the caller's role. Paying asks for the QR
payment of the amount due, into the operator's collection account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from adapters.http.idempotency import run_write
from adapters.http.parking_views import (
    Label,
    PaymentMethodName,
    Plate,
    SessionView,
    VehicleClassName,
    at_its_place,
    channel_of,
    check_place,
    path_id,
)
from adapters.http.payment_views import PaymentAnswer, payment_answer, showing_credits
from adapters.http.routing import Body, Call, Reply, Route, roles
from domain.model.clients import Role
from domain.model.parking import Arrival, ParkingSession, PaymentMethod, VehicleClass
from domain.model.payments import PaymentPurpose
from domain.services.parking import (
    EndSession,
    ExtendSession,
    StartSession,
    end_session,
    extend_session,
    session_view,
    start_session,
)
from domain.services.payment_requests import PaymentAsk, request_payment
from domain.services.unit_of_work import UnitOfWork, execute

Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class StartBody(Body):
    lot_code: Label
    reference: Label
    zone: Label
    vehicle_class: VehicleClassName
    plate: Plate
    driver_id: Label | None = None
    expected_end: Moment | None = None
    prepay: bool = False


class ExtendBody(Body):
    expected_end: Moment


class EndBody(Body):
    payment_method: PaymentMethodName
    payment_reference: Label | None = None


def _view(result: dict[str, Any]) -> SessionView:
    return msgspec.convert(result, SessionView)


async def post_session(call: Call) -> Reply:
    body: StartBody = call.body
    check_place(call.caller, body.lot_code)
    arrival = Arrival(
        body.reference,
        body.zone,
        VehicleClass(body.vehicle_class),
        body.plate,
        channel_of(call.caller),
        driver_id=body.driver_id,
        expected_end=body.expected_end,
        prepay=body.prepay,
    )
    command = StartSession(body.lot_code, arrival, call.at)
    return await run_write(call, start_session(command), lambda r: (201, _view(r)))


async def get_session(call: Call) -> Reply:
    session = path_id(call, "session_id")

    async def read(uow: UnitOfWork) -> dict[str, Any]:
        return session_view(await uow.get(ParkingSession, session))

    result = (await execute(call.services.store, at_its_place(call, ParkingSession, session, read))).result
    return Reply(200, _view(result))


async def post_extend(call: Call) -> Reply:
    body: ExtendBody = call.body
    session = path_id(call, "session_id")
    use_case = extend_session(ExtendSession(session, body.expected_end, call.at))
    return await run_write(call, at_its_place(call, ParkingSession, session, use_case), lambda r: (200, _view(r)))


async def post_end(call: Call) -> Reply:
    body: EndBody = call.body
    session = path_id(call, "session_id")
    command = EndSession(
        session,
        PaymentMethod(body.payment_method),
        channel_of(call.caller),
        call.at,
        payment_reference=body.payment_reference,
    )
    use_case = end_session(command)
    return await run_write(call, at_its_place(call, ParkingSession, session, use_case), lambda r: (200, _view(r)))


async def post_pay(call: Call) -> Reply:
    """The same as ``POST /v1/payments`` for purpose ``parking_session``."""
    ask = PaymentAsk(PaymentPurpose.PARKING_SESSION, str(path_id(call, "session_id")))
    scope = call.caller.scope if call.caller else ()
    use_case = showing_credits(
        request_payment(ask, at=call.at, scope=scope, wallet_payee_id=call.services.wallet_payee_id)
    )
    return await run_write(call, use_case, lambda view: (201, payment_answer(view, call.services.display_links)))


PLACES = roles(Role.TERMINAL, Role.APP)
ROUTES = [
    Route(
        "POST",
        "/v1/parking/sessions",
        post_session,
        PLACES,
        "Start a session (an attendant's or an app's report); prepay holds its expected fee in the wallet",
        request=StartBody,
        response=SessionView,
        status=201,
    ),
    Route("GET", "/v1/parking/sessions/{session_id}", get_session, PLACES, "A session", response=SessionView),
    Route(
        "POST",
        "/v1/parking/sessions/{session_id}/extend",
        post_extend,
        PLACES,
        "Move a session's expected end later (a larger wallet hold when needed)",
        request=ExtendBody,
        response=SessionView,
    ),
    Route(
        "POST",
        "/v1/parking/sessions/{session_id}/end",
        post_end,
        PLACES,
        "End a session and price it; cash and wallet fees are settled now, a QR fee stays due",
        request=EndBody,
        response=SessionView,
    ),
    Route(
        "POST",
        "/v1/parking/sessions/{session_id}/pay",
        post_pay,
        PLACES,
        "The QR payment of what an ended session owes, into the operator's collection account",
        response=PaymentAnswer,
        status=201,
    ),
]
