"""What a meter or gate reports: one device event, and what became of it.

A device numbers its events (``sequence``, per device, increasing) and names each one
(``event_id``, unique per device); it stamps them with its own clock (``device_time``)
and says whether it was cut off from the network when the event happened (``offline``:
the event waited in its buffer, so its arrival says nothing about its clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.model.money import MAX_VND
from domain.model.parking.common import PaymentMethod, VehicleClass

MAX_EVENT_ID_LEN = 64
MAX_REFERENCE_LEN = 64
MAX_SEQUENCE = 2**63 - 1


class EventKind(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"
    PAYMENT = "payment"
    HEARTBEAT = "heartbeat"
    COMMS_LOST = "comms_lost"
    COMMS_RESTORED = "comms_restored"

    @property
    def reads_plate(self) -> bool:
        return self in (EventKind.ENTRY, EventKind.EXIT)


class Status(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # received before, or a repeated read that collapsed into an earlier one
    REJECTED = "rejected"  # not recorded as received: the device may send it again


class Anomaly(StrEnum):
    """Facts recorded for an operator to look at; the event itself is accepted."""

    EXIT_WITHOUT_ENTRY = "exit_without_entry"
    ENTRY_WHILE_PRESENT = "entry_while_present"  # the earlier session stays open for an attendant


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    event_id: str
    sequence: int
    kind: EventKind
    device_time: datetime
    offline: bool = False
    plate: str | None = None
    vehicle_class: VehicleClass = VehicleClass.CAR
    payment_method: PaymentMethod | None = None  # exit: how the fee is settled (QR when absent)
    amount_vnd: int | None = None  # payment: what the device took
    reference: str | None = None  # payment or exit: the device's receipt number

    def problem(self) -> str | None:
        """Why the event cannot be taken as it is, or None (checked per event: one bad
        event does not refuse its batch)."""
        if not 0 < len(self.event_id) <= MAX_EVENT_ID_LEN or not self.event_id.isprintable():
            return f"event_id must be 1-{MAX_EVENT_ID_LEN} printable characters"
        if not 0 < self.sequence <= MAX_SEQUENCE:
            return f"sequence must be in 1..{MAX_SEQUENCE}"
        if self.device_time.tzinfo is None or self.device_time.utcoffset() is None:
            return "device_time must have a UTC offset"
        if self.kind.reads_plate and not self.plate:
            return f"an {self.kind} names the plate it read"
        if self.kind is EventKind.PAYMENT:
            if self.amount_vnd is None or not 0 < self.amount_vnd <= MAX_VND:
                return f"a payment has amount_vnd in 1..{MAX_VND}"
            if self.payment_method is None:
                return "a payment names its payment_method"
        if self.kind is EventKind.EXIT and self.payment_method is PaymentMethod.WALLET:
            return "a device settles an exit in cash or by QR; wallets pay through the app"
        if self.reference is not None and not 0 < len(self.reference) <= MAX_REFERENCE_LEN:
            return f"reference must be 1-{MAX_REFERENCE_LEN} characters"
        return None
