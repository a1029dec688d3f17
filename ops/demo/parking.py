"""Parking in the ward: three lots, their tariffs, the day's stays and pre-bookings, and
the attendants' cash taken to the bank.

- ``HK-HANGBAI``: on-street motorbike parking on Hàng Bài, a flat price per visit (5,000 ₫
  by day, 8,000 ₫ from 18:00), reported by the attendants' handhelds; most riders pay by
  QR, some in cash;
- ``HK-LYTHAITO``: an off-street car park behind gates, progressive by the hour in the day
  (25,000 ₫ for hours 1-2, 35,000 ₫ for 3-4, 45,000 ₫ from the 5th) and a night band from
  18:00 (20,000 ₫ an hour), 10 minutes' grace, capped at 300,000 ₫ a day;
- ``HK-DINHTIENHOANG``: a car park taking pre-bookings from the app (30,000 ₫ an hour):
  a booking holds the expected fee in the driver's wallet; most drivers come, a few cancel
  or do not show up.

Lots, tariffs and gates are registered as ``POST /v1/parking/lots``, ``.../tariffs`` and
``PUT /v1/meters/{id}`` register them; stays start and end as ``POST /v1/parking/sessions``
and ``.../end``, a fee left due is paid as ``POST /v1/parking/sessions/{id}/pay`` asks.
The cash of the morning is banked in the afternoon (on the day's statement); the
evening's slip is recorded at night but booked by the bank the next morning, so the
day's statement lacks it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from domain.model.devices import DeviceKind
from domain.model.errors import InvalidTransition
from domain.model.parking import Arrival, Channel, PaymentMethod, Spaces, Tariff, VehicleClass
from domain.model.parking.common import lot_id, reservation_id
from domain.model.parking.reservations import BookingRequest
from domain.model.payments import PaymentPurpose
from domain.services.cash_deposits import RecordCashDeposit, record_cash_deposit
from domain.services.devices import RegisterDevice, register_device
from domain.services.parking import (
    EndSession,
    RegisterLot,
    ScheduleTariff,
    StartSession,
    end_session,
    register_lot,
    schedule_tariff,
    start_session,
)
from domain.services.parking_reservations import (
    CloseReservation,
    HonourReservation,
    MakeReservation,
    cancel_reservation,
    honour_reservation,
    make_reservation,
    mark_no_show,
)
from domain.services.payment_requests import PaymentAsk, request_payment
from domain.services.unit_of_work import UseCase
from ops.demo.bank import Booking
from ops.demo.catalogue import PARKING_OPERATOR, PAYEE, WALLETS
from ops.demo.day import DemoDay
from ops.demo.flows import Flow, Flows, payer_account, transfer_note
from ops.demo.traffic import top_up

MOTO_LOT, CAR_LOT, BOOKING_LOT = "HK-HANGBAI", "HK-LYTHAITO", "HK-DINHTIENHOANG"
MOTO_ZONE, CAR_ZONE, BOOKING_ZONE = "HB", "A", "P1"
GATE_IN, GATE_OUT = "gate-ltt-in", "gate-ltt-out"
BOOKING_GATE = "gate-dth"
PARKING_KIND, DEPOSIT_KIND = 2, 6
MORNING_DEPOSIT_BY = time(16, 0)

MOTO_TARIFF = Tariff.per_visit(
    "hb-xemay-2026", VehicleClass.MOTORBIKE, {time(6, 0): ("ngay", 5_000), time(18, 0): ("dem", 8_000)}
)
# The car park's tariff, as `POST /v1/parking/lots/{lot}/tariffs` takes it (the tests price with it too):
# progressive by the hour by day, a flat night hour, at most 300,000 ₫ a day.
CAR_TARIFF_TERMS: dict[str, Any] = {
    "code": "ltt-oto-2026",
    "vehicle_class": "car",
    "grace_minutes": 10,
    "daily_cap_vnd": 300_000,
    "max_stay_minutes": 1440,
    "bands": [
        {
            "name": "ngay",
            "starts_at": "06:00",
            "steps": [
                {"from_hour": 1, "unit_vnd": 25_000},
                {"from_hour": 3, "unit_vnd": 35_000},
                {"from_hour": 5, "unit_vnd": 45_000},
            ],
        },
        {"name": "dem", "starts_at": "18:00", "steps": [{"from_hour": 1, "unit_vnd": 20_000}]},
    ],
}
CAR_TARIFF = Tariff.from_dict(CAR_TARIFF_TERMS)
BOOKING_TARIFF = Tariff.from_dict(
    {
        "code": "dth-oto-2026",
        "vehicle_class": "car",
        "grace_minutes": 5,
        "daily_cap_vnd": 250_000,
        "max_stay_minutes": 1440,
        "bands": [{"name": "ca-ngay", "starts_at": "00:00", "steps": [{"from_hour": 1, "unit_vnd": 30_000}]}],
    }
)
LOTS = (
    (MOTO_LOT, "Điểm trông giữ xe máy phố Hàng Bài", {MOTO_ZONE: {VehicleClass.MOTORBIKE: Spaces(150)}}, MOTO_TARIFF),
    (CAR_LOT, "Bãi đỗ xe ô tô Lý Thái Tổ", {CAR_ZONE: {VehicleClass.CAR: Spaces(80)}}, CAR_TARIFF),
    (BOOKING_LOT, "Bãi đỗ xe Đinh Tiên Hoàng", {BOOKING_ZONE: {VehicleClass.CAR: Spaces(60, 24)}}, BOOKING_TARIFF),
)
_PROVINCES = ("29", "30", "31", "33", "40", "88", "99")


def lot_use_cases(day: DemoDay) -> list[UseCase]:
    at = day.set_up_at
    use_cases: list[UseCase] = []
    for code, name, zones, tariff in LOTS:
        use_cases.append(register_lot(RegisterLot(code, PARKING_OPERATOR, name, zones, at)))
        for zone in zones:
            use_cases.append(schedule_tariff(ScheduleTariff(code, zone, tariff, at, at)))
    for gate, lot, zone in (
        (GATE_IN, CAR_LOT, CAR_ZONE),
        (GATE_OUT, CAR_LOT, CAR_ZONE),
        (BOOKING_GATE, BOOKING_LOT, BOOKING_ZONE),
    ):
        use_cases.append(register_device(RegisterDevice(gate, DeviceKind.GATE, lot, zone, at)))
    return use_cases


def _plate(rnd: random.Random, motorbike: bool) -> str:
    province = rnd.choice(_PROVINCES)
    if motorbike:
        series = f"{rnd.choice('BEFGHKLMNPX')}{rnd.randrange(1, 10)}"
        return f"{province}-{series} {rnd.randrange(100, 1000)}.{rnd.randrange(10, 100)}"
    return f"{province}{rnd.choice('ABCDEFGHK')}-{rnd.randrange(100, 1000)}.{rnd.randrange(10, 100)}"


@dataclass(frozen=True, slots=True)
class Stay:
    lot: str
    zone: str
    vehicle_class: VehicleClass
    reference: str
    start: datetime
    end: datetime
    method: PaymentMethod
    channel: Channel


def _stay(day: DemoDay, rnd: random.Random, i: int, motorbike: bool) -> Stay:
    start = day.moment(rnd, day.at(6, 30), day.at(21, 0))
    minutes = rnd.randrange(15, 240) if motorbike else rnd.choice((rnd.randrange(20, 120), rnd.randrange(120, 480)))
    end = min(start + timedelta(minutes=minutes), day.at(23, 30))
    draw = rnd.random()
    if motorbike:
        method = PaymentMethod.CASH if draw < 0.2 else PaymentMethod.QR
        return Stay(MOTO_LOT, MOTO_ZONE, VehicleClass.MOTORBIKE, f"HB-{i:05d}", start, end, method, Channel.ATTENDANT)
    method = PaymentMethod.CASH if draw < 0.2 else PaymentMethod.WALLET if draw < 0.3 else PaymentMethod.QR
    return Stay(CAR_LOT, CAR_ZONE, VehicleClass.CAR, f"LTT-{i:05d}", start, end, method, Channel.GATE)


def session_flows(flows: Flows) -> list[Flow]:
    size = flows.day.size
    motorbikes = size * 3 // 5
    cars = size * 3 // 20

    def flow(i: int, motorbike: bool) -> Flow:
        async def run() -> None:
            rnd = flows.day.rng(f"parking/{i}")
            await _session(flows, rnd, i, _stay(flows.day, rnd, i, motorbike))

        return run

    return [flow(i, True) for i in range(motorbikes)] + [flow(motorbikes + i, False) for i in range(cars)]


async def _session(flows: Flows, rnd: random.Random, i: int, stay: Stay) -> None:
    motorbike = stay.vehicle_class is VehicleClass.MOTORBIKE
    driver = None
    if stay.method is PaymentMethod.WALLET:
        driver = f"driver-{i:05d}"
        flows.wallet_holders.append(driver)
        await top_up(flows, rnd, driver, 500_000, stay.start - timedelta(minutes=rnd.randrange(5, 90)), i)
    gate_in = None if motorbike else GATE_IN
    arrival = Arrival(
        stay.reference,
        stay.zone,
        stay.vehicle_class,
        _plate(rnd, motorbike),
        stay.channel,
        device_id=gate_in,
        driver_id=driver,
    )
    started = await flows.run(start_session(StartSession(stay.lot, arrival, stay.start)))
    session = UUID(started["session_id"])
    if not motorbike and stay.start >= flows.day.at(19) and rnd.random() < 0.3:
        flows.tally["parking.sessions.overnight"] += 1  # still parked when the day ends
        return
    gate_out = None if motorbike else GATE_OUT
    receipt = f"BL-{stay.reference}" if stay.method is PaymentMethod.CASH else None
    ended = await flows.run(
        end_session(
            EndSession(session, stay.method, stay.channel, stay.end, device_id=gate_out, payment_reference=receipt)
        )
    )
    flows.tally["parking.sessions"] += 1
    flows.tally[f"parking.sessions.{stay.method.value}"] += 1
    if stay.method is PaymentMethod.CASH:
        flows.cash.append((stay.end, ended["fee_vnd"]))
        return
    if stay.method is PaymentMethod.QR and ended["amount_due_vnd"] > 0:
        await _pay_session(flows, rnd, i, session, stay.end)


async def _pay_session(flows: Flows, rnd: random.Random, i: int, session: UUID, at: datetime) -> None:
    ask = PaymentAsk(PaymentPurpose.PARKING_SESSION, str(session))
    payment = await flows.run(request_payment(ask, at=at, scope=(), wallet_payee_id=WALLETS))
    account = PAYEE[PARKING_OPERATOR].collection_account
    note = transfer_note(rnd, payment["reference"], "gui xe")
    paid_at = at + timedelta(seconds=rnd.randrange(15, 150))
    await flows.transfer(rnd, account, flows.tx_id(PARKING_KIND, i), payment["amount_vnd"], note, paid_at)
    flows.tally["payments.parking_session"] += 1


def reservation_steps(flows: Flows, first: int) -> list[tuple[datetime, int, Any]]:
    """Every driver's booking and what follows it, as steps to run in time order (they
    all book and release spaces of one lot)."""
    day = flows.day
    steps: list[tuple[datetime, int, Any]] = []
    refused: set[str] = set()
    for n in range(max(6, day.size // 50)):
        i = first + n
        rnd = day.rng(f"reservation/{n}")
        driver = f"driver-{i:05d}"
        start = day.moment(rnd, day.at(8), day.at(18))
        end = start + timedelta(hours=rnd.randrange(1, 5))
        # booked in the app that morning (the wallet topped up just before): all on the day's statement
        booked_at = max(start - timedelta(minutes=rnd.randrange(90, 600)), day.at(6, 0))
        reference = f"DTH-{n:05d}"
        steps.append(
            (booked_at - timedelta(minutes=5), i, _topping_up(flows, rnd, driver, i, booked_at - timedelta(minutes=5)))
        )
        request = BookingRequest(reference, BOOKING_ZONE, VehicleClass.CAR, _plate(rnd, False), driver, start, end)
        steps.append((booked_at, i, _booking(flows, MakeReservation(BOOKING_LOT, request, booked_at), refused)))
        draw = rnd.random()
        if draw < 0.75:
            arrived = start + timedelta(minutes=rnd.randrange(-10, 10))
            leaves = end + timedelta(minutes=rnd.randrange(-30, 30))
            then = _arrival(flows, reference, request, arrived, leaves)
        elif draw < 0.85:
            arrived = booked_at + timedelta(minutes=rnd.randrange(5, 30))
            then = _closing(flows, reference, cancel_reservation, arrived, "cancelled")
        else:
            arrived = start + timedelta(minutes=16 + rnd.randrange(0, 60))
            then = _closing(flows, reference, mark_no_show, arrived, "no_show")
        steps.append((arrived, i, _unless_refused(reference, refused, then)))
    return sorted(steps, key=lambda step: (step[0], step[1]))


def _topping_up(flows: Flows, rnd: random.Random, driver: str, i: int, at: datetime) -> Any:
    async def run() -> None:
        await top_up(flows, rnd, driver, 300_000, at, i)

    return run


def _booking(flows: Flows, command: MakeReservation, refused: set[str]) -> Any:
    async def run() -> None:
        try:
            await flows.run(make_reservation(command))
        except InvalidTransition:  # the app said the lot is fully booked then
            refused.add(command.booking.reference)
            flows.tally["parking.reservations.refused_full"] += 1
            return
        flows.tally["parking.reservations"] += 1

    return run


def _unless_refused(reference: str, refused: set[str], step: Any) -> Any:
    async def run() -> None:
        if reference not in refused:
            await step()

    return run


def _reservation_id(reference: str) -> UUID:
    return reservation_id(lot_id(BOOKING_LOT), reference)


def _arrival(flows: Flows, reference: str, request: BookingRequest, at: datetime, leaves: datetime) -> Any:
    async def run() -> None:
        honoured = await flows.run(
            honour_reservation(
                HonourReservation(
                    _reservation_id(reference), f"{reference}-S", Channel.GATE, at, BOOKING_GATE, request.plate
                )
            )
        )
        session = UUID(honoured["session"]["session_id"])
        await flows.run(
            end_session(EndSession(session, PaymentMethod.WALLET, Channel.GATE, leaves, device_id=BOOKING_GATE))
        )
        flows.tally["parking.reservations.honoured"] += 1
        flows.tally["parking.sessions"] += 1
        flows.tally["parking.sessions.wallet"] += 1

    return run


def _closing(flows: Flows, reference: str, close: Any, at: datetime, outcome: str) -> Any:
    async def run() -> None:
        await flows.run(close(CloseReservation(_reservation_id(reference), at)))
        flows.tally[f"parking.reservations.{outcome}"] += 1

    return run


async def bank_the_cash(flows: Flows) -> None:
    """The attendants' cash: the morning's deposited at 16:30 (on the day's statement), the
    rest at 21:30 at the branch's night safe, which the bank books the next morning."""
    day = flows.day
    account = PAYEE[PARKING_OPERATOR].collection_account
    cutoff = day.at(MORNING_DEPOSIT_BY.hour, MORNING_DEPOSIT_BY.minute)
    morning = sum(fee for ended, fee in flows.cash if ended < cutoff)
    evening = sum(fee for ended, fee in flows.cash if ended >= cutoff)
    slips = (
        ("NT-HAPARK-01", morning, day.at(16, 30), day.at(16, 30)),
        ("NT-HAPARK-02", evening, day.at(21, 30), day.next_morning + timedelta(minutes=30)),
    )
    for number, (slip, amount, deposited_at, booked_at) in enumerate(slips):
        if amount == 0:
            continue
        rnd = day.rng(f"deposit/{slip}")
        flows.bank.book(
            Booking(
                account.account_no,
                flows.tx_id(DEPOSIT_KIND, number),
                amount,
                f"NOP TIEN MAT {slip} HAPARK",
                booked_at,
                "CONG TY KHAI THAC DIEM DO XE HN",
                payer_account(rnd),
            )
        )
        if booked_at.date() != day.day:
            flows.bank.plant("missing_in_bank")
        await flows.run(
            record_cash_deposit(
                RecordCashDeposit(
                    PARKING_OPERATOR,
                    slip,
                    amount,
                    account,
                    deposited_at,
                    "thu.quy.hapark",
                    deposited_at + timedelta(minutes=10),
                )
            )
        )
        flows.tally["cash_deposits"] += 1
        flows.tally["cash_deposits.vnd"] += amount
