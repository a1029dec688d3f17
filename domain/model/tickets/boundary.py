"""Pay-as-you-go taps of one rider close to the start of a service day: `DayBoundary`.

A `RiderDay` checks passback among its own taps, but a double tap that straddles the
start of a service day (02:59:50 and 03:00:10 on the same bus) falls into two rider
days, two streams. So a tap less than its passback window away from the start of a
service day is also noted in that boundary's one stream:

- the second tap of such a pair finds the first, whichever of them arrives first;
- two such taps arriving at the same time both append to this stream: the event store
  lets one win and re-runs the other on fresh state, where it is refused.

Two taps on different service days that are closer than the window both lie within the
window of the boundary between them, so noting only the taps near a boundary suffices.

Invariants:
- every noted tap is less than its window away from the boundary;
- no two noted taps on one vehicle are closer than the smaller of their two windows (the
  days on either side may use different fare tables, each with its own window);
- at most ``2 * MAX_TAPS_PER_DAY`` taps, the most the two days can have.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.tickets.capping import MAX_TAPS_PER_DAY
from domain.model.tickets.errors import RefusalReason, TicketRefused
from domain.model.tickets.service_day import checked_id, checked_time, service_day, service_day_start

DAY_BOUNDARY_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/payg/day-boundary")
MAX_NOTED_TAPS = 2 * MAX_TAPS_PER_DAY

NotedTaps = dict[str, tuple[tuple[datetime, int], ...]]
"""Per vehicle, each noted tap's time and window in minutes, sorted by time."""


def day_boundary_id(rider_id: str, day: date) -> UUID:
    """The boundary at which service day ``day`` begins, for one rider."""
    return uuid5(DAY_BOUNDARY_NAMESPACE, f"{rider_id}/{day.isoformat()}")


def boundaries_near(at: datetime, window: timedelta) -> list[date]:
    """The service days whose start is less than ``window`` away from ``at``.

    ``window`` is at most a day (``MAX_PASSBACK_MINUTES``), so only the start of the
    tap's own day and of the next one can be that close.
    """
    day = service_day(at)
    return [d for d in (day, day + timedelta(days=1)) if abs(at - service_day_start(d)) < window]


class DayBoundary(Aggregate):
    """The taps of one rider near the start of one service day (module docstring)."""

    class Opened(Aggregate.Created):
        rider_id: str
        service_date: str

    class Noted(Aggregate.Event):
        vehicle_id: str
        window_minutes: int

        def apply(self, aggregate: DayBoundary) -> None:
            taps = (*aggregate.noted.get(self.vehicle_id, ()), (self.timestamp, self.window_minutes))
            aggregate.noted = {**aggregate.noted, self.vehicle_id: tuple(sorted(taps))}
            aggregate.count += 1

    def __init__(self, rider_id: str, service_date: str) -> None:
        self.rider_id = rider_id
        self.service_date = date.fromisoformat(service_date)
        self.noted: NotedTaps = {}
        self.count = 0

    @classmethod
    def open(cls, rider_id: str, day: date, at: datetime) -> DayBoundary:
        """The boundary at which ``day`` begins, opened by the first tap near it (at ``at``)."""
        return cls._create(
            cls.Opened,
            id=day_boundary_id(checked_id(rider_id, name="rider_id"), day),
            timestamp=checked_time(at),
            rider_id=rider_id,
            service_date=day.isoformat(),
        )

    @property
    def starts(self) -> datetime:
        return service_day_start(self.service_date)

    def note(self, vehicle_id: str, at: datetime, window_minutes: int) -> None:
        """Record a tap near this boundary; refuse it when a noted tap on the vehicle is too close."""
        checked_id(vehicle_id, name="vehicle_id")
        window = timedelta(minutes=window_minutes)
        if abs(checked_time(at) - self.starts) >= window:
            raise InvalidValue(f"a tap at {at.isoformat()} is not within {window} of {self.starts.isoformat()}")
        if self.count >= MAX_NOTED_TAPS:
            raise InvalidTransition(f"day boundary {self.id} already has {MAX_NOTED_TAPS} taps")
        for noted_at, noted_minutes in self.noted.get(vehicle_id, ()):
            if abs(at - noted_at) < min(window, timedelta(minutes=noted_minutes)):
                raise TicketRefused(
                    RefusalReason.PASSBACK,
                    f"rider {self.rider_id} tapped on vehicle {vehicle_id} at {noted_at.isoformat()}, "
                    f"across the start of service day {self.service_date}",
                )
        self.trigger_event(self.Noted, timestamp=at, vehicle_id=vehicle_id, window_minutes=window_minutes)
