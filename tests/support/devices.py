"""A gate and a meter of the test lot, and batches of their events through the use case."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.model.devices import DeviceEvent, DeviceKind, EventKind
from domain.services.aggregate_cache import AggregateCache
from domain.services.devices import IngestBatch, RegisterDevice, ingest_batch, register_device
from domain.services.unit_of_work import execute
from tests.support.parking import LOT, T0, run

NORTH, SOUTH = "gate-north", "gate-south"


async def open_gates(store: Any) -> None:
    """The lot's north gate (entries) and south gate (exits), both in zone A."""
    for name in (NORTH, SOUTH):
        await run(store, register_device(RegisterDevice(name, DeviceKind.GATE, LOT, "A", T0 - timedelta(days=1))))


def read(sequence: int, kind: EventKind, at: datetime, plate: str | None = None, **fields: Any) -> DeviceEvent:
    fields.setdefault("event_id", f"ev-{sequence}")
    return DeviceEvent(sequence=sequence, kind=kind, device_time=at, plate=plate, **fields)


async def send(
    store: Any,
    device: str,
    events: list[DeviceEvent],
    received_at: datetime | None = None,
    cache: AggregateCache | None = None,
) -> dict[str, Any]:
    """Deliver a batch; received one second after its latest event unless told."""
    received = received_at or max(e.device_time for e in events) + timedelta(seconds=1)
    return (await execute(store, ingest_batch(IngestBatch(device, events, received)), cache=cache)).result


def by_id(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["event_id"]: e for e in answer["events"]}
