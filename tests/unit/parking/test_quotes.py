from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from domain.model.errors import InvalidValue
from domain.model.parking import Band, SegmentKind, Step, Tariff, TariffChange, TariffSchedule, VehicleClass, quote
from tests.unit.parking.factories import HOUR, MIN, T0, car_tariff, moto_tariff


def amounts(tariff: Tariff | TariffSchedule, start: datetime, stay: timedelta) -> list[tuple[str, int, int, int]]:
    return [(s.band, s.units, s.unit_vnd, s.amount_vnd) for s in quote(tariff, start, start + stay).segments]


def test_progressive_hours_of_the_issue() -> None:
    """25,000 VND/h for hours 1-2, 35,000 for 3-4, 45,000 from hour 5 (daytime)."""
    priced = quote(car_tariff(), T0, T0 + 5 * HOUR + 20 * MIN)
    assert priced.total_vnd == 2 * 25_000 + 2 * 35_000 + 2 * 45_000
    assert [(s.units, s.unit_vnd) for s in priced.segments] == [(2, 25_000), (2, 35_000), (2, 45_000)]
    assert priced.segments[0].start == T0
    assert priced.segments[-1].end == T0 + 5 * HOUR + 20 * MIN  # the last started hour is paid, shown to the exit


def test_a_stay_within_the_grace_period_is_free() -> None:
    assert quote(car_tariff(), T0, T0 + 10 * MIN).total_vnd == 0
    assert quote(car_tariff(), T0, T0 + 10 * MIN).within_grace
    assert quote(car_tariff(), T0, T0).segments == ()
    assert quote(car_tariff(), T0, T0 + 10 * MIN + timedelta(seconds=1)).total_vnd == 25_000


def test_units_are_priced_by_the_band_they_start_in() -> None:
    # 16:30 to 19:45 local: hours 1-2 by day ("ngay": 16:30, 17:30), then night ("dem") from 18:30.
    start = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    assert amounts(car_tariff(), start, 3 * HOUR + 15 * MIN) == [
        ("ngay", 2, 25_000, 50_000),
        ("dem", 2, 20_000, 40_000),
    ]


def test_the_daily_cap_applies_per_24_hours_of_the_stay() -> None:
    day_one = quote(car_tariff(), T0, T0 + 24 * HOUR)
    assert day_one.total_vnd == 300_000
    assert sum(s.capped_vnd for s in day_one.segments) > 0
    two_days = quote(car_tariff(max_stay_minutes=None), T0, T0 + 24 * HOUR + MIN)
    assert two_days.total_vnd == 300_000 + 45_000  # hour 25 is a daytime hour past hour 5
    assert two_days.segments[-1].day == 2


def test_a_first_block_is_charged_as_one_then_units_follow() -> None:
    bands = (Band("day", time(6), (Step(1, 30_000), Step(4, 40_000)), first_block_vnd=50_000),)
    tariff = Tariff("block", VehicleClass.CAR, bands, first_block_minutes=120)
    assert quote(tariff, T0, T0 + 30 * MIN).total_vnd == 50_000
    priced = quote(tariff, T0, T0 + 4 * HOUR + MIN)
    assert [(s.kind, s.units, s.amount_vnd) for s in priced.segments] == [
        (SegmentKind.FIRST_BLOCK, 1, 50_000),
        (SegmentKind.UNIT, 1, 30_000),  # hour 3
        (SegmentKind.UNIT, 2, 80_000),  # hours 4 and 5
    ]


def test_a_motorbike_pays_per_visit_by_the_band_it_arrives_in() -> None:
    assert quote(moto_tariff(), T0, T0 + 3 * MIN).total_vnd == 0
    assert quote(moto_tariff(), T0, T0 + 9 * HOUR).total_vnd == 5_000
    evening = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # 19:00 local
    assert quote(moto_tariff(), evening, evening + 2 * HOUR).total_vnd == 10_000
    assert quote(moto_tariff(), T0, T0 + 25 * HOUR).total_vnd == 10_000  # a second visit starts after a day


def test_a_tariff_change_mid_stay_is_priced_per_segment() -> None:
    dearer = car_tariff(code="car-2026", bands=[{"name": "all", "starts_at": "00:00", "steps": [
        {"from_hour": 1, "unit_vnd": 30_000}, {"from_hour": 3, "unit_vnd": 50_000}]}])  # fmt: skip
    schedule = TariffSchedule((TariffChange(T0 - HOUR, car_tariff()), TariffChange(T0 + 3 * HOUR, dearer)))
    priced = quote(schedule, T0, T0 + 5 * HOUR)
    assert [(s.tariff_code, s.units, s.unit_vnd) for s in priced.segments] == [
        ("ltt-oto-2026", 2, 25_000),
        ("ltt-oto-2026", 1, 35_000),
        ("car-2026", 2, 50_000),  # hours 4 and 5: the hour of the stay keeps counting
    ]
    assert priced.total_vnd == 50_000 + 35_000 + 100_000


def test_impossible_stays_are_refused() -> None:
    with pytest.raises(InvalidValue, match="end before it starts"):
        quote(car_tariff(), T0, T0 - MIN)
    with pytest.raises(InvalidValue, match="366 days"):
        quote(car_tariff(), T0, T0 + timedelta(days=367))
    with pytest.raises(InvalidValue, match="timezone-aware"):
        quote(car_tariff(), datetime(2025, 3, 3, 8), T0)
    with pytest.raises(InvalidValue, match="no tariff is in force"):
        quote(TariffSchedule((TariffChange(T0, car_tariff()),)), T0 - HOUR, T0)


def test_a_quote_and_its_segments_are_json_ready() -> None:
    priced = quote(car_tariff(), T0, T0 + 3 * HOUR)
    data = priced.as_dict()
    assert data["total_vnd"] == 85_000
    assert data["segments"][0] == {
        "start": T0.isoformat(),
        "end": (T0 + 2 * HOUR).isoformat(),
        "kind": "unit",
        "tariff_code": "ltt-oto-2026",
        "band": "ngay",
        "day": 1,
        "units": 2,
        "unit_vnd": 25_000,
        "amount_vnd": 50_000,
    }
