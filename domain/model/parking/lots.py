"""Parking lots (off-street) and street segments (on-street): zones, spaces, tariffs, bookings.

Occupancy is deliberately not kept here but in a projection: a session records a fact
from the street (a car is there), and making every entry and exit write to the lot's
stream would make one busy gate contend with every other. Only pre-bookings, which
promise a space ahead of time, are counted on the lot, where the promise can be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, payable
from domain.model.parking.common import VehicleClass, aware, choice, label, lot_id
from domain.model.parking.tariffs import Tariff, TariffChange, TariffSchedule

MAX_ZONES = 200
MAX_SPACES = 100_000
MAX_TARIFF_CHANGES = 1_000  # per zone and vehicle class
MAX_BOOKINGS = 10_000  # open bookings per lot; a reservation is released when it ends


@dataclass(frozen=True, slots=True)
class Spaces:
    """Spaces of one vehicle class in one zone; ``reservable`` of them may be pre-booked."""

    capacity: int
    reservable: int = 0

    def __post_init__(self) -> None:
        for value in (self.capacity, self.reservable):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SPACES:
                raise InvalidValue(f"spaces must be whole numbers in 0..{MAX_SPACES}")
        if self.reservable > self.capacity:
            raise InvalidValue("no more spaces can be reservable than there are")

    def as_dict(self) -> dict[str, int]:
        return {"capacity": self.capacity, "reservable": self.reservable}


@dataclass(frozen=True, slots=True)
class Booking:
    zone: str
    vehicle_class: VehicleClass
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


ZoneSpaces = Mapping[str, Mapping[VehicleClass, Spaces]]


class ParkingLot(Aggregate):
    """A lot or street segment run by one operator.

    Invariants:
    - its id is ``uuid5`` of its code; each zone has spaces for at least one vehicle class,
      with ``0 <= reservable <= capacity``;
    - tariffs per zone and vehicle class only ever gain later changes, never retroactive
      ones (a change takes effect no earlier than it is scheduled), so the price of any
      stay that has begun can be recomputed identically later;
    - at no instant do the open bookings of a zone and class exceed its reservable spaces
      (as they were when each booking was accepted: shrinking the spaces keeps accepted
      bookings and refuses new ones).
    """

    class Registered(Aggregate.Created):
        code: str
        operator_id: str
        name: str
        zones: dict[str, dict[str, dict[str, int]]]

    class SpacesChanged(Aggregate.Event):
        zone: str
        vehicle_class: str
        capacity: int
        reservable: int

        def apply(self, aggregate: ParkingLot) -> None:
            aggregate.zones[self.zone][VehicleClass(self.vehicle_class)] = Spaces(self.capacity, self.reservable)

    class TariffScheduled(Aggregate.Event):
        zone: str
        vehicle_class: str
        effective_from: datetime
        tariff: dict[str, Any]

        def apply(self, aggregate: ParkingLot) -> None:
            key = (self.zone, VehicleClass(self.vehicle_class))
            tariff = Tariff.from_dict(self.tariff)
            known = aggregate.tariffs.get(key)
            aggregate.tariffs[key] = (
                known.then(self.effective_from, tariff)
                if known
                else TariffSchedule((TariffChange(self.effective_from, tariff),))
            )

    class SpaceBooked(Aggregate.Event):
        reservation_id: UUID
        zone: str
        vehicle_class: str
        start: datetime
        end: datetime

        def apply(self, aggregate: ParkingLot) -> None:
            vehicle_class = VehicleClass(self.vehicle_class)
            aggregate.bookings[self.reservation_id] = Booking(self.zone, vehicle_class, self.start, self.end)

    class BookingReleased(Aggregate.Event):
        reservation_id: UUID

        def apply(self, aggregate: ParkingLot) -> None:
            del aggregate.bookings[self.reservation_id]

    def __init__(self, code: str, operator_id: str, name: str, zones: dict[str, dict[str, dict[str, int]]]) -> None:
        self.code = code
        self.operator_id = operator_id
        self.name = name
        self.zones: dict[str, dict[VehicleClass, Spaces]] = {
            zone: {VehicleClass(vc): Spaces(**spaces) for vc, spaces in classes.items()}
            for zone, classes in zones.items()
        }
        self.tariffs: dict[tuple[str, VehicleClass], TariffSchedule] = {}
        self.bookings: dict[UUID, Booking] = {}

    @classmethod
    def register(cls, code: str, operator_id: str, name: str, zones: ZoneSpaces, at: datetime) -> ParkingLot:
        label(code, "lot code")
        payable(PartyKind.OPERATOR, operator_id)  # the operator must be able to own an account
        label(name, "lot name", 128)
        if not 0 < len(zones) <= MAX_ZONES:
            raise InvalidValue(f"a lot has 1-{MAX_ZONES} zones")
        for zone, classes in zones.items():
            label(zone, "zone")
            if not classes:
                raise InvalidValue(f"zone {zone} needs spaces for at least one vehicle class")
            for vehicle_class in classes:
                choice(VehicleClass, vehicle_class, "vehicle_class")
        return cls._create(
            cls.Registered,
            id=lot_id(code),
            timestamp=aware(at),
            code=code,
            operator_id=operator_id,
            name=name,
            zones={z: {vc.value: s.as_dict() for vc, s in classes.items()} for z, classes in zones.items()},
        )

    def spaces(self, zone: str, vehicle_class: VehicleClass) -> Spaces:
        try:
            return self.zones[zone][vehicle_class]
        except KeyError:
            raise InvalidValue(f"lot {self.code} has no {vehicle_class} spaces in zone {zone!r}") from None

    def change_spaces(self, zone: str, vehicle_class: VehicleClass, spaces: Spaces, at: datetime) -> None:
        if zone not in self.zones:
            raise InvalidValue(f"lot {self.code} has no zone {zone!r}")
        choice(VehicleClass, vehicle_class, "vehicle_class")
        self.trigger_event(
            self.SpacesChanged,
            timestamp=aware(at),
            zone=zone,
            vehicle_class=vehicle_class.value,
            capacity=spaces.capacity,
            reservable=spaces.reservable,
        )

    def schedule(self, zone: str, vehicle_class: VehicleClass) -> TariffSchedule:
        self.spaces(zone, vehicle_class)
        found = self.tariffs.get((zone, vehicle_class))
        if found is None:
            raise InvalidValue(f"lot {self.code} has no {vehicle_class} tariff in zone {zone}")
        return found

    def schedule_tariff(self, zone: str, tariff: Tariff, effective_from: datetime, at: datetime) -> None:
        self.spaces(zone, tariff.vehicle_class)
        if aware(effective_from, "effective_from") < aware(at):
            raise InvalidValue("a tariff cannot take effect before it is scheduled: past stays keep their price")
        known = self.tariffs.get((zone, tariff.vehicle_class))
        if known is not None:
            if effective_from <= known.changes[-1].effective_from:
                raise InvalidValue("a tariff change must take effect after the last scheduled one")
            if len(known.changes) >= MAX_TARIFF_CHANGES:
                raise InvalidTransition(f"zone {zone} already has {MAX_TARIFF_CHANGES} tariff changes")
        self.trigger_event(
            self.TariffScheduled,
            timestamp=at,
            zone=zone,
            vehicle_class=tariff.vehicle_class.value,
            effective_from=effective_from,
            tariff=tariff.as_dict(),
        )

    def book(
        self, reservation: UUID, zone: str, vehicle_class: VehicleClass, start: datetime, end: datetime, at: datetime
    ) -> None:
        """Promise a space of ``vehicle_class`` in ``zone`` from ``start`` to ``end``."""
        spaces = self.spaces(zone, vehicle_class)
        if reservation in self.bookings:
            raise InvalidTransition(f"reservation {reservation} already holds a booking")
        if len(self.bookings) >= MAX_BOOKINGS:
            raise InvalidTransition(f"lot {self.code} has {MAX_BOOKINGS} open bookings")
        if not aware(start, "start") < aware(end, "end"):
            raise InvalidValue("a booking must end after it starts")
        if self._peak_bookings(zone, vehicle_class, start, end) >= spaces.reservable:
            raise InvalidTransition(f"no reservable {vehicle_class} space left in zone {zone} for that time")
        self.trigger_event(
            self.SpaceBooked,
            timestamp=aware(at),
            reservation_id=reservation,
            zone=zone,
            vehicle_class=vehicle_class.value,
            start=start,
            end=end,
        )

    def release(self, reservation: UUID, at: datetime) -> None:
        if reservation not in self.bookings:
            raise InvalidTransition(f"reservation {reservation} holds no booking in lot {self.code}")
        self.trigger_event(self.BookingReleased, timestamp=aware(at), reservation_id=reservation)

    def _peak_bookings(self, zone: str, vehicle_class: VehicleClass, start: datetime, end: datetime) -> int:
        """The most open bookings of the zone and class at any instant in ``[start, end)``."""
        changes: list[tuple[datetime, int]] = []
        for booking in self.bookings.values():
            if booking.zone == zone and booking.vehicle_class is vehicle_class and booking.overlaps(start, end):
                changes.append((max(booking.start, start), 1))
                changes.append((booking.end, -1))
        # Intervals are half-open: at an equal instant, a booking ending frees its space first.
        peak = count = 0
        for _, step in sorted(changes):
            count += step
            peak = max(peak, count)
        return peak
