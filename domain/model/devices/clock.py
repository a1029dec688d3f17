"""A device's clock, as seen from ours: its offset, and event times corrected by it.

Each event a device sends as it happens arrives ``received_at - device_time`` after its
device time: the device clock's error plus the time the event waited for its batch and
the network. The smallest of these in a batch is the event sent last, which waited
least, so it is the best measure of the clock's error the batch gives; a batch without
such events (all offline, buffered while the network was down) keeps the last measure.
Corrected times never lie after the moment we received the event: nothing is reported
before it happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def offset_ms(samples: Iterable[tuple[datetime, datetime]], previous_ms: int | None) -> int | None:
    """The clock offset (ours minus the device's, in ms) measured by ``(device_time,
    received_at)`` pairs of events sent as they happened; ``previous_ms`` without any."""
    measured = [round((received - device) / timedelta(milliseconds=1)) for device, received in samples]
    return min(measured) if measured else previous_ms


def corrected(device_time: datetime, offset: int | None, received_at: datetime) -> datetime:
    """When the event happened on our clock (device time as it is while the offset is unknown)."""
    at = device_time if offset is None else device_time + timedelta(milliseconds=offset)
    return min(at, received_at)
