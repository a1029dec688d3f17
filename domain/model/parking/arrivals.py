"""What reports a vehicle's arrival: the fields of a session's start, checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.model.errors import InvalidValue
from domain.model.parking.common import Channel, VehicleClass, aware, choice, label

MAX_PLATE_LEN = 16


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the report of a start says. ``reference`` is the reporter's own key for the
    stay (gate ticket, meter transaction, app request): the session id derives from it."""

    reference: str
    zone: str
    vehicle_class: VehicleClass
    plate: str
    channel: Channel
    device_id: str | None = None
    driver_id: str | None = None
    expected_end: datetime | None = None
    prepay: bool = False  # hold the expected fee in the driver's wallet now

    def check(self, at: datetime) -> None:
        label(self.reference, "reference")
        label(self.zone, "zone")
        choice(VehicleClass, self.vehicle_class, "vehicle_class")
        label(self.plate, "plate", MAX_PLATE_LEN)
        choice(Channel, self.channel, "channel")
        if self.channel in (Channel.METER, Channel.GATE) and self.device_id is None:
            raise InvalidValue(f"a {self.channel} report names its device")
        if self.device_id is not None:
            label(self.device_id, "device_id")
        if (self.channel is Channel.APP or self.prepay) and self.driver_id is None:
            raise InvalidValue("an app session or a prepaid one belongs to a driver")
        if self.driver_id is not None:
            label(self.driver_id, "driver_id")
        if self.expected_end is not None and aware(self.expected_end, "expected_end") <= at:
            raise InvalidValue("the expected end must be after the start")
