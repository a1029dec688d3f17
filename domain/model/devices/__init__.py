"""Meters and gates: their registration, the events they report, plates and clocks.

One concept per module; this package re-exports the names use cases and tests need.
"""

from domain.model.devices.device import MAX_BATCH_EVENTS, BatchTooLarge, Device, DeviceKind, device_id
from domain.model.devices.plates import UnreadablePlate, normalise_plate
from domain.model.devices.presence import PlatePresence, presence_id
from domain.model.devices.readings import Anomaly, DeviceEvent, EventKind, Status
from domain.model.devices.verdicts import Verdict

__all__ = [
    "MAX_BATCH_EVENTS",
    "Anomaly",
    "BatchTooLarge",
    "Device",
    "DeviceEvent",
    "DeviceKind",
    "EventKind",
    "PlatePresence",
    "Status",
    "UnreadablePlate",
    "Verdict",
    "device_id",
    "normalise_plate",
    "presence_id",
]
