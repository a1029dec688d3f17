from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from domain.model.errors import InvalidValue
from domain.model.parking import Band, Step, Tariff, TariffChange, TariffSchedule, VehicleClass
from tests.support.parking import CAR_TARIFF
from tests.unit.parking.factories import T0, car_tariff, moto_tariff


def test_a_tariff_loads_from_json_and_dumps_back_unchanged() -> None:
    tariff = Tariff.from_dict(json.loads(json.dumps(CAR_TARIFF)))
    assert tariff.vehicle_class is VehicleClass.CAR
    assert [b.name for b in tariff.bands] == ["ngay", "dem"]
    assert tariff.bands[0].steps == (Step(1, 25_000), Step(3, 35_000), Step(5, 45_000))
    assert Tariff.from_dict(json.loads(json.dumps(tariff.as_dict()))) == tariff


def test_progressive_steps_price_the_hour_a_unit_starts_in() -> None:
    day = car_tariff().bands[0]
    assert [day.unit_vnd(h) for h in (1, 2, 3, 4, 5, 9)] == [25_000, 25_000, 35_000, 35_000, 45_000, 45_000]


def test_bands_follow_local_time_and_wrap_past_midnight() -> None:
    tariff = car_tariff()  # day from 06:00, night from 18:00, Hà Nội time
    assert tariff.band_at(datetime(2025, 3, 3, 1, 0, tzinfo=UTC)).name == "ngay"  # 08:00
    assert tariff.band_at(datetime(2025, 3, 3, 10, 59, tzinfo=UTC)).name == "ngay"  # 17:59
    assert tariff.band_at(datetime(2025, 3, 3, 11, 0, tzinfo=UTC)).name == "dem"  # 18:00
    assert tariff.band_at(datetime(2025, 3, 3, 20, 0, tzinfo=UTC)).name == "dem"  # 03:00, before the first band


def test_a_per_visit_tariff_is_one_unit_per_day() -> None:
    tariff = moto_tariff()
    assert tariff.unit_minutes == 24 * 60
    assert [(b.name, b.steps) for b in tariff.bands] == [("day", (Step(1, 5_000),)), ("night", (Step(1, 10_000),))]


BAD_TARIFFS: list[tuple[dict[str, Any], str]] = [
    ({"daily_cap": 1}, "unknown fields"),
    ({"vehicle_class": "truck"}, "vehicle_class"),
    ({"code": ""}, "tariff code"),
    ({"unit_minutes": 1}, "unit_minutes"),
    ({"unit_minutes": "60"}, "unit_minutes"),
    ({"daily_cap_vnd": 0}, "daily cap of 0"),
    ({"daily_cap_vnd": 1.5}, "integer number of đồng"),
    ({"grace_minutes": -1}, "grace_minutes"),
    ({"max_stay_minutes": 0}, "max_stay_minutes"),
    ({"utc_offset_minutes": 15 * 60}, "utc_offset_minutes"),
    ({"first_block_minutes": 120}, "first block"),
    ({"bands": []}, "1-24 bands"),
    ({"bands": "day"}, "bands must be a list"),
    ({"bands": [{"name": "day", "starts_at": "6h", "steps": [{"from_hour": 1, "unit_vnd": 1}]}]}, "HH:MM"),
    ({"bands": [{"name": "day", "starts_at": "06:00:30", "steps": [{"from_hour": 1, "unit_vnd": 1}]}]}, "whole minute"),
    ({"bands": [{"name": "day", "starts_at": "06:00", "steps": []}]}, "steps"),
    ({"bands": [{"name": "day", "starts_at": "06:00", "steps": [{"from_hour": 2, "unit_vnd": 1}]}]}, "from hour 1"),
    ({"bands": [{"name": "d", "starts_at": "06:00", "steps": [{"from_hour": 1, "unit_vnd": -1}]}]}, "unit_vnd"),
    ({"bands": [{"name": "d", "starts_at": "06:00", "steps": [{"from_hour": 1}]}]}, "unit_vnd"),
    ({"bands": [{"name": "d", "starts_at": "06:00", "steps": [{"from_hour": 1, "unit_vnd": 1, "x": 1}]}]}, "unknown"),
    ({"bands": [{"name": "d", "starts_at": "06:00", "steps": [[1, 1]]}]}, "step must be an object"),
    (
        {
            "bands": [
                {
                    "name": "d",
                    "starts_at": "06:00",
                    "steps": [{"from_hour": 1, "unit_vnd": 1}, {"from_hour": 1, "unit_vnd": 2}],
                }
            ]
        },
        "increasing hours",
    ),
    (
        {
            "bands": [
                {"name": "late", "starts_at": "18:00", "steps": [{"from_hour": 1, "unit_vnd": 1}]},
                {"name": "early", "starts_at": "06:00", "steps": [{"from_hour": 1, "unit_vnd": 1}]},
            ]
        },
        "increasing times of day",
    ),
]


@pytest.mark.parametrize(("changes", "message"), BAD_TARIFFS)
def test_malformed_tariff_data_is_refused_with_a_typed_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Tariff.from_dict(CAR_TARIFF | changes)


def test_a_first_block_needs_a_price_in_every_band_and_only_then() -> None:
    steps = (Step(1, 30_000),)
    with pytest.raises(InvalidValue, match="first block"):
        Tariff("b", VehicleClass.CAR, (Band("all", time(0), steps, first_block_vnd=40_000),))
    tariff = Tariff("b", VehicleClass.CAR, (Band("all", time(0), steps, 40_000),), first_block_minutes=120)
    assert Tariff.from_dict(tariff.as_dict()) == tariff


def test_a_schedule_gives_the_tariff_in_force_at_each_instant() -> None:
    old, new = car_tariff(code="old"), car_tariff(code="new")
    schedule = TariffSchedule((TariffChange(T0, old), TariffChange(T0 + timedelta(hours=3), new)))
    assert schedule.in_force(T0).code == "old"
    assert schedule.in_force(T0 + timedelta(hours=2, minutes=59)).code == "old"
    assert schedule.in_force(T0 + timedelta(hours=3)).code == "new"
    with pytest.raises(InvalidValue, match="no tariff is in force"):
        schedule.in_force(T0 - timedelta(seconds=1))
    with pytest.raises(InvalidValue, match="timezone-aware"):
        schedule.in_force(datetime(2025, 3, 3, 8, 0))


def test_a_schedule_refuses_disorder_mixed_classes_and_naive_times() -> None:
    with pytest.raises(InvalidValue, match="at least one"):
        TariffSchedule(())
    with pytest.raises(InvalidValue, match="increasing times"):
        TariffSchedule((TariffChange(T0, car_tariff()), TariffChange(T0, car_tariff(code="x"))))
    with pytest.raises(InvalidValue, match="one vehicle class"):
        TariffSchedule((TariffChange(T0, car_tariff()), TariffChange(T0 + timedelta(1), moto_tariff())))
    with pytest.raises(InvalidValue, match="timezone-aware"):
        TariffSchedule((TariffChange(datetime(2025, 1, 1), car_tariff()),))


def test_the_maximum_stay_is_checked_against_the_tariff_at_the_start() -> None:
    schedule = TariffSchedule.always(car_tariff())
    schedule.check_stay(T0, T0 + timedelta(hours=24))
    with pytest.raises(InvalidValue, match="maximum stay"):
        schedule.check_stay(T0, T0 + timedelta(hours=24, seconds=1))
    unlimited = TariffSchedule.always(car_tariff(max_stay_minutes=None))
    assert unlimited.latest_end(T0) == T0 + timedelta(days=31)
