"""Hypothesis strategies for tariffs, schedules and stays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import strategies as st

from domain.model.parking import Band, Step, Tariff, TariffChange, TariffSchedule, VehicleClass

prices = st.integers(min_value=0, max_value=200_000)
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC))
# Up to three days: enough to cross bands, caps and periods, quick enough to run often.
stay_minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def steps(draw: st.DrawFn) -> tuple[Step, ...]:
    later = draw(st.lists(st.integers(min_value=2, max_value=30), max_size=3, unique=True))
    return tuple(Step(hour, draw(prices)) for hour in [1, *sorted(later)])


@st.composite
def tariffs(draw: st.DrawFn, code: str = "t", vehicle_class: VehicleClass = VehicleClass.CAR) -> Tariff:
    starts = sorted(draw(st.sets(st.integers(min_value=0, max_value=24 * 60 - 1), min_size=1, max_size=4)))
    first_block_minutes = draw(st.sampled_from([0, 0, 30, 120]))
    bands = tuple(
        Band(
            f"b{i}",
            time(minute // 60, minute % 60),
            draw(steps()),
            draw(prices) if first_block_minutes else None,
        )
        for i, minute in enumerate(starts)
    )
    return Tariff(
        code,
        vehicle_class,
        bands,
        unit_minutes=draw(st.sampled_from([5, 15, 30, 60, 60, 90, 24 * 60])),
        first_block_minutes=first_block_minutes,
        daily_cap_vnd=draw(st.none() | st.integers(min_value=1, max_value=1_000_000)),
        grace_minutes=draw(st.integers(min_value=0, max_value=30)),
        max_stay_minutes=draw(st.none() | st.integers(min_value=1, max_value=31 * 24 * 60)),
        utc_offset_minutes=draw(st.integers(min_value=-12 * 60, max_value=14 * 60)),
    )


@st.composite
def schedules(draw: st.DrawFn, start: datetime) -> TariffSchedule:
    """One to three tariffs; the first in force at ``start``, the others taking effect during the stay."""
    offsets = sorted(draw(st.sets(st.integers(min_value=1, max_value=3 * 24 * 60), max_size=2)))
    froms = [start - timedelta(minutes=draw(st.integers(0, 600))), *(start + timedelta(minutes=m) for m in offsets)]
    return TariffSchedule(tuple(TariffChange(at, draw(tariffs(code=f"t{i}"))) for i, at in enumerate(froms)))
