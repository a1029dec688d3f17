"""Shared examples for parking tests: tariffs of the issue, one lot, fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.parking import Channel, ParkingLot, Spaces, Tariff, VehicleClass
from domain.model.parking.arrivals import Arrival
from tests.support.parking import CAR_TARIFF

# 08:00 on a Monday in Hà Nội (UTC+7).
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
OPERATOR = "op-hoankiem"
DRIVER = "driver-lan"


def car_tariff(**changes: Any) -> Tariff:
    return Tariff.from_dict(CAR_TARIFF | changes)


def moto_tariff() -> Tariff:
    bands = {time(6): ("day", 5_000), time(18): ("night", 10_000)}
    return Tariff.per_visit("moto-2025", VehicleClass.MOTORBIKE, bands, grace_minutes=5)


def registered_lot(at: datetime = T0 - timedelta(days=1)) -> ParkingLot:
    """Lot HK-01: zone A (cars, 2 reservable; motorbikes), zone B (cars), tariffs in force since ``at``."""
    lot = ParkingLot.register(
        "HK-01",
        OPERATOR,
        "Hoàn Kiếm, Lý Thái Tổ",
        {
            "A": {VehicleClass.CAR: Spaces(50, 2), VehicleClass.MOTORBIKE: Spaces(200)},
            "B": {VehicleClass.CAR: Spaces(10)},
        },
        at,
    )
    lot.schedule_tariff("A", car_tariff(), at, at)
    lot.schedule_tariff("A", moto_tariff(), at, at)
    lot.schedule_tariff("B", car_tariff(code="car-b"), at, at)
    return lot


def arrival(reference: str = "gate-0001", **changes: Any) -> Arrival:
    fields: dict[str, Any] = {
        "reference": reference,
        "zone": "A",
        "vehicle_class": VehicleClass.CAR,
        "plate": "30A-123.45",
        "channel": Channel.GATE,
        "device_id": "gate-north",
    }
    return Arrival(**(fields | changes))


def replayed(aggregate: Aggregate, history: list[Any]) -> Any:
    """``aggregate`` rebuilt from ``history`` after a round trip through the store's codec."""
    mapper = build_mapper(CodecOptions())
    rebuilt: Any = None
    for event in history:
        decoded: Any = mapper.to_domain_event(mapper.to_stored_event(event))
        rebuilt = decoded.mutate(rebuilt)
    assert type(rebuilt) is type(aggregate)
    return rebuilt
