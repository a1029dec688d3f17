"""Pay-as-you-go riding with a daily fare cap."""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.tickets import (
    MAX_TAPS_PER_DAY,
    PAYG_FARES,
    Concession,
    PaygFare,
    RefusalReason,
    RiderDay,
    TicketRefused,
)
from domain.model.tickets.capping import rider_day_id
from tests.unit.tickets.builders import T0, assert_replays, minutes

FARE = PAYG_FARES["PAYG"]  # 8,000 a ride, 40,000 a day


def opened(fare: PaygFare = FARE) -> RiderDay:
    return RiderDay.open("rider-1", fare, T0)


def test_a_rider_day_is_named_by_rider_and_service_day() -> None:
    day = opened()
    assert day.id == rider_day_id("rider-1", date(2025, 3, 10))
    assert (day.service_date, day.fare, day.taps, day.charged_vnd) == (date(2025, 3, 10), FARE, 0, 0)
    assert_replays(day)


def test_taps_are_charged_the_fare_until_the_cap_then_nothing() -> None:
    day = opened()
    charges = [day.tap(f"bus-{i}", "busco", T0 + minutes(i)) for i in range(7)]
    assert charges == [8_000, 8_000, 8_000, 8_000, 8_000, 0, 0]
    assert (day.taps, day.charged_vnd, day.capped) == (7, 40_000, True)
    assert_replays(day)


def test_the_tap_that_reaches_the_cap_pays_only_the_rest() -> None:
    day = opened(PaygFare("PAYG-X", Concession.NONE, 7_000, 20_000, 20))
    assert [day.tap(f"bus-{i}", "busco", T0 + minutes(i)) for i in range(4)] == [7_000, 7_000, 6_000, 0]


def test_a_double_tap_on_the_same_vehicle_is_refused_not_charged() -> None:
    day = opened()
    day.tap("bus-1", "busco", T0)
    before = copy.deepcopy(day)
    with pytest.raises(TicketRefused) as refused:
        day.tap("bus-1", "busco", T0 + minutes(FARE.passback_minutes) - timedelta(seconds=1))
    assert refused.value.reason is RefusalReason.PASSBACK
    assert day == before
    assert day.tap("bus-1", "busco", T0 + minutes(FARE.passback_minutes)) == 8_000


def test_taps_belong_to_the_days_service_day() -> None:
    day = opened()
    with pytest.raises(InvalidValue):
        day.tap("bus-1", "busco", T0 + timedelta(days=1))
    with pytest.raises(InvalidValue):
        day.tap("", "busco", T0)
    with pytest.raises(InvalidValue):
        day.tap("bus-1", "bus:co", T0)
    with pytest.raises(InvalidValue):
        RiderDay.open("", FARE, T0)


def test_taps_per_day_are_bounded() -> None:
    day = opened()
    for i in range(MAX_TAPS_PER_DAY):
        day.tap(f"bus-{i}", "busco", T0 + timedelta(seconds=i))
    with pytest.raises(InvalidTransition):
        day.tap("bus-x", "busco", T0 + minutes(200))


fares = st.builds(
    lambda fare_vnd, extra_vnd: PaygFare("PAYG-H", Concession.NONE, fare_vnd, fare_vnd + extra_vnd, 20),
    st.integers(1, 50_000),
    st.integers(0, 200_000),
)


@given(fare=fares, taps=st.integers(0, MAX_TAPS_PER_DAY), order=st.randoms(use_true_random=False))
def test_capping_never_charges_more_than_the_cap(fare: PaygFare, taps: int, order: random.Random) -> None:
    day = opened(fare)
    offsets = list(range(taps))
    order.shuffle(offsets)
    charged = []
    for i in offsets:  # taps may reach the service in any order (offline validators)
        charged.append(day.tap(f"bus-{i}", "op", T0 + timedelta(seconds=i)))
        assert 0 <= charged[-1] <= fare.fare_vnd
        assert day.charged_vnd <= fare.daily_cap_vnd
    assert sum(charged) == day.charged_vnd == min(taps * fare.fare_vnd, fare.daily_cap_vnd)
    assert_replays(day)
