"""What became of one device event: its status, and what it caused in parking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.model.devices.readings import Anomaly, DeviceEvent, EventKind, Status

DEBOUNCED = "debounced"


@dataclass(slots=True)
class Verdict:
    """Screening decides ``status``; the parking use cases may still reject an accepted
    entry or exit (``reject``) or add the session it started or ended."""

    event: DeviceEvent
    status: Status
    reason: str | None = None
    at: datetime | None = None  # when it happened on our clock
    plate: str | None = None  # canonical
    session_id: UUID | None = None
    anomaly: Anomaly | None = None
    fee_vnd: int | None = None
    amount_due_vnd: int | None = None

    @property
    def recorded(self) -> bool:
        """Whether the device log records it: first deliveries only, so a redelivery
        writes nothing (a read that collapsed into an earlier one was delivered once)."""
        return self.status is not Status.DUPLICATE or self.reason == DEBOUNCED

    @property
    def drives_parking(self) -> bool:
        return self.status is Status.ACCEPTED and self.event.kind.reads_plate

    def reject(self, reason: str) -> None:
        self.status, self.reason, self.session_id, self.anomaly = Status.REJECTED, reason, None, None

    def as_record(self) -> dict[str, Any]:
        e = self.event
        record: dict[str, Any] = {
            "event_id": e.event_id,
            "sequence": e.sequence,
            "kind": e.kind.value,
            "device_time": e.device_time.isoformat(),
            "offline": e.offline,
            "status": self.status.value,
        }
        return record | _present(
            at=self.at.isoformat() if self.at else None,
            plate=self.plate,
            vehicle_class=e.vehicle_class.value if e.kind is EventKind.ENTRY else None,
            payment_method=e.payment_method.value if e.payment_method else None,
            amount_vnd=e.amount_vnd,
            reference=e.reference,
            **self._effects(),
        )

    def as_answer(self) -> dict[str, Any]:
        """What the device is told about it."""
        return {"event_id": self.event.event_id, "status": self.status.value} | _present(**self._effects())

    def _effects(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "session_id": str(self.session_id) if self.session_id else None,
            "anomaly": self.anomaly.value if self.anomaly else None,
            "fee_vnd": self.fee_vnd,
            "amount_due_vnd": self.amount_due_vnd,
        }


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
