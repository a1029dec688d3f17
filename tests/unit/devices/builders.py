"""Devices and their events for the unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.model.devices import Device, DeviceEvent, DeviceKind, EventKind

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
SECOND = timedelta(seconds=1)


def gate(debounce_s: int = 30) -> Device:
    device = Device.register("gate-north", DeviceKind.GATE, "HK-01", "A", debounce_s, T0 - timedelta(days=1))
    device.collect_events()
    return device


def event(sequence: int, kind: EventKind = EventKind.HEARTBEAT, at_s: float = 0, **fields: Any) -> DeviceEvent:
    fields.setdefault("event_id", f"ev-{sequence}")
    if kind.reads_plate:
        fields.setdefault("plate", "29A-123.45")
    return DeviceEvent(sequence=sequence, kind=kind, device_time=T0 + at_s * SECOND, **fields)


def deliver(device: Device, events: list[DeviceEvent], received_s: float = 1) -> dict[str, Any]:
    """Screen and record a batch as the use case does, without parking effects."""
    verdicts, offset = device.screen(events, T0 + received_s * SECOND)
    gaps = device.record(verdicts, offset, T0 + received_s * SECOND)
    by_event = {id(v.event): v for v in verdicts}
    return {"events": [by_event[id(e)].as_answer() for e in events], "gaps": gaps, "offset": offset}


def state(device: Device) -> dict[str, Any]:
    """What a device knows, apart from when it last heard from the device."""
    r = device.receipts
    return {
        "ids": dict(sorted(r.ids.items())),
        "high": r.high,
        "gaps": list(r.gaps),
        "offset": device.clock_offset_ms,
        "reads": dict(sorted(device.last_reads.items())),
        "comms_up": device.comms_up,
        "taken": device.events_taken,
    }
