from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.parking import ParkingLot, Spaces, VehicleClass, lot_id
from domain.model.parking.lots import MAX_TARIFF_CHANGES
from tests.unit.parking.factories import HOUR, OPERATOR, T0, car_tariff, moto_tariff, registered_lot, replayed

CAR, MOTO = VehicleClass.CAR, VehicleClass.MOTORBIKE


def test_a_registered_lot_has_its_zones_spaces_and_tariffs() -> None:
    lot = registered_lot()
    assert lot.id == lot_id("HK-01")
    assert lot.operator_id == OPERATOR
    assert lot.spaces("A", CAR) == Spaces(50, 2)
    assert lot.schedule("A", MOTO).in_force(T0).code == "moto-2025"
    assert lot.schedule("B", CAR).in_force(T0).code == "car-b"


@pytest.mark.parametrize(
    ("code", "operator", "zones", "message"),
    [
        ("", OPERATOR, {"A": {CAR: Spaces(1)}}, "lot code"),
        ("L", "op:1", {"A": {CAR: Spaces(1)}}, "without ':'"),
        ("L", OPERATOR, {}, "1-200 zones"),
        ("L", OPERATOR, {"A": {}}, "at least one vehicle class"),
        ("L", OPERATOR, {"A": {"bus": Spaces(1)}}, "vehicle_class"),
        ("L", OPERATOR, {" A": {CAR: Spaces(1)}}, "spaces"),
    ],
)
def test_registration_refuses_bad_lots(code: str, operator: str, zones: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        ParkingLot.register(code, operator, "name", zones, T0)  # type: ignore[arg-type]


def test_spaces_are_whole_and_reservable_within_capacity() -> None:
    with pytest.raises(InvalidValue, match="whole numbers"):
        Spaces(-1)
    with pytest.raises(InvalidValue, match="whole numbers"):
        Spaces(True)
    with pytest.raises(InvalidValue, match="reservable"):
        Spaces(2, 3)


def test_spaces_change_per_zone_and_class() -> None:
    lot = registered_lot()
    lot.change_spaces("B", MOTO, Spaces(30), T0)
    assert lot.spaces("B", MOTO) == Spaces(30)
    with pytest.raises(InvalidValue, match="no zone"):
        lot.change_spaces("Z", CAR, Spaces(1), T0)
    with pytest.raises(InvalidValue, match="no motorbike spaces in zone 'Z'"):
        lot.spaces("Z", MOTO)


def test_tariff_changes_are_appended_in_order_and_never_retroactive() -> None:
    lot = registered_lot()
    lot.schedule_tariff("A", car_tariff(code="car-2026"), T0 + 2 * HOUR, T0)
    assert lot.schedule("A", CAR).in_force(T0 + 2 * HOUR).code == "car-2026"
    with pytest.raises(InvalidValue, match="before it is scheduled"):
        lot.schedule_tariff("A", car_tariff(code="late"), T0 - HOUR, T0)
    with pytest.raises(InvalidValue, match="after the last scheduled one"):
        lot.schedule_tariff("A", car_tariff(code="again"), T0 + HOUR, T0)
    with pytest.raises(InvalidValue, match="no motorbike spaces"):
        lot.schedule_tariff("B", moto_tariff(), T0, T0)


def test_a_zone_without_a_tariff_cannot_be_priced() -> None:
    lot = registered_lot()
    lot.change_spaces("B", MOTO, Spaces(30), T0)
    with pytest.raises(InvalidValue, match="no motorbike tariff in zone B"):
        lot.schedule("B", MOTO)


def test_tariff_changes_per_zone_are_bounded() -> None:
    lot = ParkingLot.register("L", OPERATOR, "n", {"A": {CAR: Spaces(1)}}, T0)
    for i in range(MAX_TARIFF_CHANGES):
        lot.schedule_tariff("A", car_tariff(code=f"c{i}"), T0 + i * HOUR, T0)
    with pytest.raises(InvalidTransition, match="tariff changes"):
        lot.schedule_tariff("A", car_tariff(code="one-more"), T0 + 10_000 * HOUR, T0)


def test_bookings_never_exceed_the_reservable_spaces_at_any_instant() -> None:
    lot = registered_lot()  # zone A: 2 reservable car spaces
    first, second, third = uuid4(), uuid4(), uuid4()
    lot.book(first, "A", CAR, T0, T0 + 2 * HOUR, T0)
    lot.book(second, "A", CAR, T0 + HOUR, T0 + 3 * HOUR, T0)
    with pytest.raises(InvalidTransition, match="no reservable car space"):
        lot.book(third, "A", CAR, T0 + 90 * timedelta(minutes=1), T0 + 4 * HOUR, T0)
    lot.book(third, "A", CAR, T0 + 2 * HOUR, T0 + 4 * HOUR, T0)  # the first has ended by then: half-open
    with pytest.raises(InvalidTransition, match="already holds a booking"):
        lot.book(third, "A", CAR, T0 + 5 * HOUR, T0 + 6 * HOUR, T0)
    lot.release(first, T0)
    lot.book(uuid4(), "A", CAR, T0, T0 + HOUR, T0)
    with pytest.raises(InvalidTransition, match="holds no booking"):
        lot.release(first, T0)


def test_bookings_need_reservable_spaces_and_a_real_interval() -> None:
    lot = registered_lot()
    with pytest.raises(InvalidTransition, match="no reservable motorbike space"):
        lot.book(uuid4(), "A", MOTO, T0, T0 + HOUR, T0)
    with pytest.raises(InvalidValue, match="end after it starts"):
        lot.book(uuid4(), "A", CAR, T0, T0, T0)


def test_replaying_a_lot_reproduces_it() -> None:
    lot = registered_lot()
    lot.change_spaces("B", MOTO, Spaces(30, 5), T0)
    lot.schedule_tariff("A", car_tariff(code="car-2026"), T0 + HOUR, T0)
    booking = uuid4()
    lot.book(booking, "A", CAR, T0, T0 + HOUR, T0)
    lot.book(uuid4(), "A", CAR, T0, T0 + HOUR, T0)
    lot.release(booking, T0)
    assert replayed(lot, list(lot.collect_events())) == lot
