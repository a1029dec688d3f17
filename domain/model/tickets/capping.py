"""Daily fare capping for pay-as-you-go riders: the `RiderDay` aggregate.

A rider without a ticket taps on the validator and pays each ride from their wallet at
the single fare, until the day's charges reach the cap; further rides that day are free.
There is one `RiderDay` per rider per service day, its id derived from both.

Invariants:
- the fare table is fixed by the day's first tap (`Opened`) and never changes that day;
- every tap belongs to the aggregate's service day;
- a tap is charged ``min(fare, cap - charged so far)``: the day's total never exceeds the
  cap, and after n taps it equals ``min(n * fare, cap)``;
- no two taps on the same vehicle are less than the fare's passback minutes apart,
  whatever order they arrive in (`domain.model.tickets.passback`): a double tap is
  refused rather than charged twice. Taps on the neighbouring service day are the
  `DayBoundary`'s to check (`domain.model.tickets.boundary`);
- at most `MAX_TAPS_PER_DAY` taps, so the state and the stream stay bounded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.tickets.passback import RideTimes, check_passback, with_ride
from domain.model.tickets.products import PaygFare
from domain.model.tickets.service_day import checked_id, service_day

RIDER_DAY_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/payg/rider-day")
MAX_TAPS_PER_DAY = 100  # far above any real day of riding; a runaway validator stops here


def rider_day_id(rider_id: str, day: date) -> UUID:
    return uuid5(RIDER_DAY_NAMESPACE, f"{rider_id}/{day.isoformat()}")


class RiderDay(Aggregate):
    """One pay-as-you-go rider's service day (module docstring lists the invariants)."""

    class Opened(Aggregate.Created):
        rider_id: str
        service_date: str
        fare: dict[str, Any]

    class Tapped(Aggregate.Event):
        vehicle_id: str
        operator_id: str
        tap_no: int
        charged_vnd: int

        def apply(self, aggregate: RiderDay) -> None:
            aggregate.taps = self.tap_no
            aggregate.charged_vnd += self.charged_vnd
            aggregate.tap_times = with_ride(aggregate.tap_times, self.vehicle_id, self.timestamp)

    def __init__(self, rider_id: str, service_date: str, fare: dict[str, Any]) -> None:
        self.rider_id = rider_id
        self.service_date = date.fromisoformat(service_date)
        self.fare = PaygFare.from_dict(fare)
        self.taps = 0
        self.charged_vnd = 0
        self.tap_times: RideTimes = {}

    @classmethod
    def open(cls, rider_id: str, fare: PaygFare, at: datetime) -> RiderDay:
        """The rider's day, opened by its first tap at ``at`` with the rider's fare table."""
        day = service_day(at)
        return cls._create(
            cls.Opened,
            id=rider_day_id(checked_id(rider_id, name="rider_id"), day),
            timestamp=at,
            rider_id=rider_id,
            service_date=day.isoformat(),
            fare=fare.as_dict(),
        )

    @property
    def passback(self) -> timedelta:
        return timedelta(minutes=self.fare.passback_minutes)

    @property
    def capped(self) -> bool:
        return self.charged_vnd >= self.fare.daily_cap_vnd

    def tap(self, vehicle_id: str, operator_id: str, at: datetime) -> int:
        """Accept one ride; return what it costs (0 once the cap is reached)."""
        checked_id(vehicle_id, name="vehicle_id")
        checked_id(operator_id, name="operator_id")
        if service_day(at) != self.service_date:
            raise InvalidValue(f"a tap at {at.isoformat()} is not on service day {self.service_date}")
        if self.taps >= MAX_TAPS_PER_DAY:
            raise InvalidTransition(f"rider day {self.id} already has {MAX_TAPS_PER_DAY} taps")
        check_passback(self.tap_times, vehicle_id, at, self.passback, f"rider {self.rider_id}")
        charged_vnd = min(self.fare.fare_vnd, self.fare.daily_cap_vnd - self.charged_vnd)
        self.trigger_event(
            self.Tapped,
            timestamp=at,
            vehicle_id=vehicle_id,
            operator_id=operator_id,
            tap_no=self.taps + 1,
            charged_vnd=charged_vnd,
        )
        return charged_vnd
