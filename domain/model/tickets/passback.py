"""Anti-passback: no two rides on one vehicle closer in time than the passback window.

Validators on buses work offline and upload their taps later, so taps reach the service
in any order. The window is therefore a window in *time*, checked on both sides of a
tap, against every tap already recorded on that vehicle: a tap is refused when any
recorded tap on the same vehicle is less than the window away, before or after it.

Nothing is pruned by the newest tap: once W's 10:30 tap has arrived, V's 10:00 tap must
still refuse V's 10:05 tap arriving late. The kept times are bounded by what holds them
(a rider day has at most ``MAX_TAPS_PER_DAY`` taps; a ticket's rides are its own events,
which loading it reads anyway).

Taps are kept per vehicle as sorted tuples, so the closest one is found by bisection and
an aggregate's state stays an immutable value its events rebuild exactly.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping
from datetime import datetime, timedelta

from domain.model.tickets.errors import RefusalReason, TicketRefused

RideTimes = Mapping[str, tuple[datetime, ...]]
"""Every recorded tap time, per vehicle, sorted."""


def closest(times: tuple[datetime, ...], at: datetime) -> datetime | None:
    """The recorded time nearest to ``at`` (either side), or ``None`` when there is none."""
    i = bisect_left(times, at)
    around = times[max(0, i - 1) : i + 1]
    return min(around, key=lambda t: abs(t - at), default=None)


def check_passback(rides: RideTimes, vehicle_id: str, at: datetime, window: timedelta, who: str) -> None:
    """Raise `TicketRefused` (reason passback) when a recorded tap on the vehicle is too close."""
    nearest = closest(rides.get(vehicle_id, ()), at)
    if nearest is not None and abs(at - nearest) < window:
        minutes = window // timedelta(minutes=1)
        raise TicketRefused(
            RefusalReason.PASSBACK,
            f"{who} tapped on vehicle {vehicle_id} at {nearest.isoformat()}; taps on one vehicle are "
            f"{minutes} minutes apart at least",
        )


def with_ride(rides: RideTimes, vehicle_id: str, at: datetime) -> dict[str, tuple[datetime, ...]]:
    """``rides`` with one more tap recorded (a new value; the old one is left unchanged)."""
    times = list(rides.get(vehicle_id, ()))
    insort(times, at)
    return {**rides, vehicle_id: tuple(times)}
