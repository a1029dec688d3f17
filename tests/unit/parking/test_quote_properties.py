"""Properties every tariff must have, whatever its data."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model.parking import Tariff, TariffSchedule, quote
from tests.unit.parking.strategies import instants, schedules, stay_minutes, tariffs

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(tariffs(), instants, stay_minutes, stay_minutes)
def test_the_fee_never_decreases_as_the_stay_grows(tariff: Tariff, start: datetime, a: int, b: int) -> None:
    shorter, longer = sorted((a, b))
    fee_shorter = quote(tariff, start, start + timedelta(minutes=shorter)).total_vnd
    assert fee_shorter <= quote(tariff, start, start + timedelta(minutes=longer)).total_vnd


@PROPERTY_SETTINGS
@given(tariffs(), instants, stay_minutes, st.integers(min_value=0, max_value=59))
def test_no_day_of_a_stay_costs_more_than_the_daily_cap(tariff: Tariff, start: datetime, m: int, s: int) -> None:
    priced = quote(tariff, start, start + timedelta(minutes=m, seconds=s))
    per_day: dict[int, int] = defaultdict(int)
    for segment in priced.segments:
        per_day[segment.day] += segment.amount_vnd
    if tariff.daily_cap_vnd is not None:
        assert all(amount <= tariff.daily_cap_vnd for amount in per_day.values())
        assert priced.total_vnd <= tariff.daily_cap_vnd * max(per_day, default=0)


@PROPERTY_SETTINGS
@given(tariffs(), instants, stay_minutes)
def test_segments_sum_to_the_total_and_cover_the_stay(tariff: Tariff, start: datetime, minutes: int) -> None:
    end = start + timedelta(minutes=minutes)
    priced = quote(tariff, start, end)
    assert sum(s.amount_vnd for s in priced.segments) == priced.total_vnd
    assert all(0 <= s.amount_vnd <= s.units * s.unit_vnd for s in priced.segments)
    if priced.within_grace:
        assert priced.total_vnd == 0
        assert priced.segments == ()
    else:
        assert priced.segments[0].start == start
        assert priced.segments[-1].end == end
        assert all(a.end == b.start for a, b in zip(priced.segments, priced.segments[1:], strict=False))


@PROPERTY_SETTINGS
@given(st.data(), instants, stay_minutes, stay_minutes)
def test_tariff_changes_mid_stay_keep_the_fee_monotonic_and_itemised(
    data: st.DataObject, start: datetime, a: int, b: int
) -> None:
    schedule: TariffSchedule = data.draw(schedules(start))
    shorter, longer = (quote(schedule, start, start + timedelta(minutes=m)) for m in sorted((a, b)))
    assert shorter.total_vnd <= longer.total_vnd
    assert sum(s.amount_vnd for s in longer.segments) == longer.total_vnd
    for segment in longer.segments:
        assert schedule.in_force(segment.start).code == segment.tariff_code


@PROPERTY_SETTINGS
@given(tariffs())
def test_every_tariff_survives_its_json_form(tariff: Tariff) -> None:
    assert Tariff.from_dict(tariff.as_dict()) == tariff
