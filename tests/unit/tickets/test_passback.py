"""Anti-passback is a window in time per vehicle, whatever order taps arrive in."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.model.errors import InvalidValue
from domain.model.tickets import (
    PAYG_FARES,
    PRODUCTS,
    DayBoundary,
    RefusalReason,
    RiderDay,
    TicketRefused,
    day_boundary_id,
    service_day_start,
)
from domain.model.tickets.boundary import boundaries_near
from domain.model.tickets.passback import closest
from tests.unit.tickets.builders import T0, active, assert_replays, minutes

FARE = PAYG_FARES["PAYG"]  # passback 20 minutes
WINDOW = minutes(FARE.passback_minutes)
BOUNDARY = service_day_start(date(2025, 3, 11))  # 03:00 in Hanoi, the start of the day after T0's


def refused(tap: Callable[[], object]) -> RefusalReason:
    with pytest.raises(TicketRefused) as caught:
        tap()
    return caught.value.reason


def test_a_late_tap_is_refused_although_a_later_tap_on_another_vehicle_arrived_first() -> None:
    day = RiderDay.open("rider-1", FARE, T0)
    assert day.tap("bus-v", "busco", T0) == 8_000
    assert day.tap("bus-w", "busco", T0 + minutes(30)) == 8_000
    before = copy.deepcopy(day)
    assert refused(lambda: day.tap("bus-v", "busco", T0 + minutes(5))) is RefusalReason.PASSBACK
    assert day == before
    assert day.tap("bus-v", "busco", T0 + WINDOW) == 8_000
    assert_replays(day)


def test_a_late_ride_on_a_pass_is_refused_although_a_later_ride_arrived_first() -> None:
    ticket = active("MONTH")
    window = minutes(PRODUCTS["MONTH"].passback_minutes)
    ticket.validate("bus-v", T0 + window)
    ticket.validate("bus-w", T0 + 2 * window + minutes(10))
    before = copy.deepcopy(ticket)
    assert refused(lambda: ticket.validate("bus-v", T0 + window + minutes(5))) is RefusalReason.PASSBACK
    assert ticket == before
    assert ticket.validate("bus-v", T0) == 3  # a late upload a full window earlier is a ride
    assert_replays(ticket)


def test_closest_finds_the_nearest_time_on_either_side() -> None:
    times = (T0, T0 + minutes(10), T0 + minutes(30))
    assert closest(times, T0 + minutes(12)) == T0 + minutes(10)
    assert closest(times, T0 + minutes(25)) == T0 + minutes(30)
    assert closest(times, T0 - minutes(5)) == T0
    assert closest(times, T0 + minutes(60)) == T0 + minutes(30)
    assert closest((), T0) is None


def test_only_boundaries_within_the_window_are_near_a_tap() -> None:
    assert boundaries_near(BOUNDARY - timedelta(seconds=10), WINDOW) == [date(2025, 3, 11)]
    assert boundaries_near(BOUNDARY + timedelta(seconds=10), WINDOW) == [date(2025, 3, 11)]
    assert boundaries_near(BOUNDARY - WINDOW, WINDOW) == []
    assert boundaries_near(BOUNDARY + WINDOW, WINDOW) == []
    assert boundaries_near(T0, WINDOW) == []  # 08:00: nowhere near 03:00
    # A day-long window reaches both ends of the tap's own service day.
    assert boundaries_near(T0, timedelta(days=1)) == [date(2025, 3, 10), date(2025, 3, 11)]


def boundary() -> DayBoundary:
    return DayBoundary.open("rider-1", date(2025, 3, 11), BOUNDARY)


def test_a_boundary_refuses_a_tap_on_the_same_vehicle_just_across_it() -> None:
    b = boundary()
    assert b.id == day_boundary_id("rider-1", date(2025, 3, 11))
    b.note("bus-1", BOUNDARY + timedelta(seconds=10), FARE.passback_minutes)
    before = copy.deepcopy(b)
    late = BOUNDARY - timedelta(seconds=10)
    assert refused(lambda: b.note("bus-1", late, FARE.passback_minutes)) is RefusalReason.PASSBACK
    assert b == before
    b.note("bus-2", late, FARE.passback_minutes)
    b.note("bus-1", BOUNDARY - WINDOW + timedelta(seconds=10), FARE.passback_minutes)  # exactly a window apart
    assert b.count == 3
    assert_replays(b)


def test_taps_from_days_with_different_windows_are_held_to_the_smaller_one() -> None:
    b = boundary()
    b.note("bus-1", BOUNDARY - minutes(3), 5)
    b.note("bus-1", BOUNDARY + minutes(2), 20)  # 5 minutes apart: the 5-minute window allows it
    assert refused(lambda: b.note("bus-1", BOUNDARY + minutes(6), 20)) is RefusalReason.PASSBACK


def test_a_boundary_notes_only_taps_within_their_window_of_it() -> None:
    b = boundary()
    with pytest.raises(InvalidValue):
        b.note("bus-1", BOUNDARY + WINDOW, FARE.passback_minutes)
    with pytest.raises(InvalidValue):
        b.note("", BOUNDARY, FARE.passback_minutes)
    with pytest.raises(InvalidValue):
        DayBoundary.open("", date(2025, 3, 11), BOUNDARY)


# Taps of one service day on three vehicles, at whole seconds over two hours.
taps = st.lists(
    st.tuples(st.sampled_from(["bus-1", "bus-2", "bus-3"]), st.integers(0, 2 * 3600)), min_size=1, max_size=40
)


@given(taps=taps, order=st.randoms(use_true_random=False))
def test_in_any_arrival_order_no_two_charged_taps_on_a_vehicle_are_within_the_window(
    taps: list[tuple[str, int]], order: random.Random
) -> None:
    day = RiderDay.open("rider-1", FARE, T0)
    order.shuffle(taps)
    accepted: list[tuple[str, datetime]] = []
    for vehicle, second in taps:
        at = T0 + timedelta(seconds=second)
        try:
            day.tap(vehicle, "busco", at)
        except TicketRefused:
            # Refused only for a reason: an accepted tap on that vehicle within the window.
            assert any(v == vehicle and abs(at - t) < WINDOW for v, t in accepted)
            continue
        accepted.append((vehicle, at))
    for i, (vehicle, at) in enumerate(accepted):
        assert all(abs(at - t) >= WINDOW for v, t in accepted[:i] if v == vehicle)
    assert_replays(day)
