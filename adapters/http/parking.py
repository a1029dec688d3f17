"""Parking lots and what is read of them: register a lot, its spaces and tariffs (admin),
quote a stay, occupancy and cashless share per lot (from the live projections).

Sessions are `adapters.http.parking_sessions`, reservations
`adapters.http.parking_reservations`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from adapters.http.idempotency import run_write
from adapters.http.parking_views import Label, SegmentView, VehicleClassName, check_place
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from adapters.http.types import Text, Vnd
from domain.model.clients import Role
from domain.model.parking import ParkingLot, Spaces, Tariff, VehicleClass, lot_id
from domain.model.parking.lots import MAX_SPACES
from domain.services.parking import (
    ChangeSpaces,
    QuoteStay,
    RegisterLot,
    ScheduleTariff,
    change_spaces,
    lot_view,
    quote_stay,
    register_lot,
    schedule_tariff,
)
from domain.services.parking_projections import (
    EMPTY_SHARE,
    CashlessShare,
    LotOccupancy,
    cashless_share_bps,
    occupancy_key,
    share_key,
)
from domain.services.unit_of_work import UnitOfWork, execute

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_SPACES)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=31 * 24 * 60)]
Clock = Annotated[str, msgspec.Meta(pattern=r"^[0-2][0-9]:[0-5][0-9]$")]


class SpacesBody(Body):
    capacity: Count
    reservable: Count = 0


class LotBody(Body):
    code: Label
    operator_id: Label
    name: Text
    zones: dict[Label, dict[VehicleClassName, SpacesBody]]


class SpacesView(Answer):
    capacity: int
    reservable: int


class LotView(Answer):
    lot_id: str
    code: str
    operator_id: str
    zones: dict[str, dict[str, SpacesView]]
    open_bookings: int


class StepBody(Body, omit_defaults=True):
    from_hour: Annotated[int, msgspec.Meta(ge=1, le=744)]
    unit_vnd: Vnd


class BandBody(Body, omit_defaults=True):
    name: Label
    starts_at: Clock
    steps: list[StepBody]
    first_block_vnd: Vnd | None = None


class TariffBody(Body, omit_defaults=True):
    """A tariff as data (see domain.model.parking.tariffs); absent limits take its defaults."""

    code: Label
    vehicle_class: VehicleClassName
    bands: list[BandBody]
    unit_minutes: Minutes | None = None
    first_block_minutes: Minutes | None = None
    daily_cap_vnd: Vnd | None = None
    grace_minutes: Minutes | None = None
    max_stay_minutes: Minutes | None = None
    utc_offset_minutes: Annotated[int, msgspec.Meta(ge=-720, le=840)] | None = None


class ScheduleBody(Body):
    zone: Label
    effective_from: Annotated[datetime, msgspec.Meta(tz=True)]
    tariff: TariffBody


class ScheduledView(LotView):
    effective_from: str
    tariff: dict[str, Any]


class QuoteBody(Body):
    lot_code: Label
    zone: Label
    vehicle_class: VehicleClassName
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    end: Annotated[datetime, msgspec.Meta(tz=True)]


class QuoteView(Answer):
    start: str
    end: str
    total_vnd: int
    within_grace: bool
    segments: list[SegmentView]


class OccupancyCell(Answer):
    capacity: int
    occupied: int


class OccupancyView(Answer):
    lot_code: str
    zones: dict[str, dict[str, OccupancyCell]]
    classes: dict[str, OccupancyCell]


class ShareView(Answer):
    lot_code: str
    day: str | None
    cash_count: int
    cash_vnd: int
    cashless_count: int
    cashless_vnd: int
    cashless_count_bps: int  # basis points of paid sessions
    cashless_vnd_bps: int  # basis points of the amount paid


async def post_lot(call: Call) -> Reply:
    body: LotBody = call.body
    zones = {
        z: {VehicleClass(vc): Spaces(s.capacity, s.reservable) for vc, s in c.items()} for z, c in body.zones.items()
    }
    command = RegisterLot(body.code, body.operator_id, body.name, zones, call.at)
    return await run_write(call, register_lot(command), lambda r: (201, msgspec.convert(r, LotView)))


async def get_lot(call: Call) -> Reply:
    code = call.param("lot_code")

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        return lot_view(await uow.get(ParkingLot, lot_id(code)))

    return Reply(200, msgspec.convert((await execute(call.services.store, use_case)).result, LotView))


async def put_spaces(call: Call) -> Reply:
    body: SpacesBody = call.body
    vehicle_class = _vehicle_class(call.param("vehicle_class"))
    spaces = Spaces(body.capacity, body.reservable)
    command = ChangeSpaces(call.param("lot_code"), call.param("zone"), vehicle_class, spaces, call.at)
    return await run_write(call, change_spaces(command), lambda r: (200, msgspec.convert(r, LotView)))


async def post_tariff(call: Call) -> Reply:
    body: ScheduleBody = call.body
    tariff = Tariff.from_dict(msgspec.to_builtins(body.tariff))
    command = ScheduleTariff(call.param("lot_code"), body.zone, tariff, body.effective_from, call.at)
    return await run_write(call, schedule_tariff(command), lambda r: (201, msgspec.convert(r, ScheduledView)))


async def post_quote(call: Call) -> Reply:
    body: QuoteBody = call.body
    check_place(call.caller, body.lot_code)
    command = QuoteStay(body.lot_code, body.zone, VehicleClass(body.vehicle_class), body.start, body.end)
    return await run_write(call, quote_stay(command), lambda r: (200, msgspec.convert(r, QuoteView)))


async def get_occupancy(call: Call) -> Reply:
    code = call.param("lot_code")
    check_place(call.caller, code)
    rows = await call.services.projections.get_rows(LotOccupancy.name, [occupancy_key(lot_id(code))])
    row = rows.get(occupancy_key(lot_id(code)))
    if row is None:
        raise Problem(404, "Not found", f"no occupancy of lot {code!r} (unknown lot)", f"{PROBLEM_BASE}not-found")
    return Reply(200, OccupancyView(lot_code=code, zones=row["zones"], classes=row["classes"]))


async def get_share(call: Call) -> Reply:
    code = call.param("lot_code")
    day = call.request.query.get("day")
    if day is not None:
        try:
            day = date.fromisoformat(day).isoformat()  # one spelling of the day, as the rows are keyed
        except ValueError as exc:
            raise Problem(422, "Invalid query", "day must be YYYY-MM-DD", f"{PROBLEM_BASE}invalid-query") from exc
    lot = lot_id(code)
    key = share_key(lot, day)
    occupancy = occupancy_key(lot)
    known = await call.services.projections.get_rows(LotOccupancy.name, [occupancy])
    if occupancy not in known:
        raise Problem(404, "Not found", f"lot {code!r} is not known", f"{PROBLEM_BASE}not-found")
    row = (await call.services.projections.get_rows(CashlessShare.name, [key])).get(key) or EMPTY_SHARE
    by_count, by_amount = cashless_share_bps(row)
    return Reply(200, ShareView(lot_code=code, day=day, cashless_count_bps=by_count, cashless_vnd_bps=by_amount, **row))


def _vehicle_class(name: str) -> VehicleClass:
    if name not in {v.value for v in VehicleClass}:
        raise Problem(404, "Not found", f"no vehicle class {name!r}", f"{PROBLEM_BASE}not-found")
    return VehicleClass(name)


ADMIN = roles(Role.ADMIN)
ROUTES = [
    Route(
        "POST",
        "/v1/parking/lots",
        post_lot,
        ADMIN,
        "Register a lot or street segment with its zones",
        request=LotBody,
        response=LotView,
        status=201,
    ),
    Route(
        "GET",
        "/v1/parking/lots/{lot_code}",
        get_lot,
        roles(Role.ADMIN, Role.TERMINAL, Role.APP),
        "A lot's zones, spaces and open bookings",
        response=LotView,
    ),
    Route(
        "PUT",
        "/v1/parking/lots/{lot_code}/spaces/{zone}/{vehicle_class}",
        put_spaces,
        ADMIN,
        "Set the spaces of one vehicle class in a zone",
        request=SpacesBody,
        response=LotView,
    ),
    Route(
        "POST",
        "/v1/parking/lots/{lot_code}/tariffs",
        post_tariff,
        ADMIN,
        "Schedule a tariff for a zone from a given instant (never retroactive)",
        request=ScheduleBody,
        response=ScheduledView,
        status=201,
    ),
    Route(
        "POST",
        "/v1/parking/quotes",
        post_quote,
        roles(Role.TERMINAL, Role.APP),
        "The fee of a planned stay; records nothing",
        request=QuoteBody,
        response=QuoteView,
    ),
    Route(
        "GET",
        "/v1/parking/lots/{lot_code}/occupancy",
        get_occupancy,
        roles(Role.ADMIN, Role.TERMINAL, Role.APP, Role.FINANCE),
        "Spaces and vehicles inside, per zone and vehicle class (live projection)",
        response=OccupancyView,
    ),
    Route(
        "GET",
        "/v1/parking/lots/{lot_code}/cashless-share",
        get_share,
        roles(Role.ADMIN, Role.FINANCE, Role.AUDITOR),
        "Paid sessions by cash and cashless, overall or on one local day (?day=YYYY-MM-DD)",
        response=ShareView,
    ),
]
