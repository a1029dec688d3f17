"""A meter or gate: where it stands, and the log of the events it reported."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.devices import clock
from domain.model.devices.plates import UnreadablePlate, normalise_plate
from domain.model.devices.readings import DeviceEvent, EventKind, Status
from domain.model.devices.receipts import Gap, Receipts, advance
from domain.model.devices.verdicts import DEBOUNCED, Verdict
from domain.model.errors import DomainError, InvalidValue
from domain.model.parking.common import Channel, aware, choice, label

DEVICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/devices/device")
MAX_BATCH_EVENTS = 1_000
MAX_DEBOUNCE_S = 3_600
DEFAULT_DEBOUNCE_S = 30


class DeviceKind(StrEnum):
    METER = "meter"  # on-street, camera or keypad at the kerb
    GATE = "gate"  # barrier of an off-street lot

    @property
    def channel(self) -> Channel:
        return Channel.METER if self is DeviceKind.METER else Channel.GATE


class BatchTooLarge(DomainError):
    code = "batch-too-large"
    status = 413


def device_id(name: str) -> UUID:
    return uuid5(DEVICE_NAMESPACE, name)


class Device(Aggregate):
    """One device and what it reported.

    Invariants:
    - its id is ``uuid5`` of the device's name (its client scope); it reports for one zone
      of one lot at a time;
    - every event it sent is recorded once (see `receipts.Receipts`): a redelivery is a
      duplicate and records nothing; a refused event is recorded as refused, not received;
    - two reads of one plate by one kind of event within ``debounce_s`` of each other
      (on our clock) are one read: the later one is a duplicate;
    - event times are corrected by the clock offset of the batch that brought them.
    """

    class Registered(Aggregate.Created):
        name: str
        kind: str
        lot_code: str
        zone: str
        debounce_s: int

    class Reassigned(Aggregate.Event):
        kind: str
        lot_code: str
        zone: str
        debounce_s: int

        def apply(self, aggregate: Device) -> None:
            aggregate.place(self.kind, self.lot_code, self.zone, self.debounce_s)

    class BatchReceived(Aggregate.Event):
        received_at: datetime
        clock_offset_ms: int | None
        events: list[dict[str, Any]]

        def apply(self, aggregate: Device) -> None:
            aggregate.take(self.received_at, self.clock_offset_ms, self.events)

    def __init__(self, name: str, kind: str, lot_code: str, zone: str, debounce_s: int) -> None:
        self.name = name
        self.place(kind, lot_code, zone, debounce_s)
        self.receipts = Receipts()
        self.clock_offset_ms: int | None = None
        self.last_reads: dict[str, datetime] = {}  # "<kind>:<plate>" -> last accepted read
        self.comms_up = True
        self.last_received_at: datetime | None = None
        self.events_taken = 0

    def place(self, kind: str, lot_code: str, zone: str, debounce_s: int) -> None:
        self.kind = DeviceKind(kind)
        self.lot_code = lot_code
        self.zone = zone
        self.debounce = timedelta(seconds=debounce_s)

    @classmethod
    def register(cls, name: str, kind: DeviceKind, lot_code: str, zone: str, debounce_s: int, at: datetime) -> Device:
        checked = _checked_place(name, kind, lot_code, zone, debounce_s)
        return cls._create(cls.Registered, id=device_id(name), timestamp=aware(at), name=name, **checked)

    def reassign(self, kind: DeviceKind, lot_code: str, zone: str, debounce_s: int, at: datetime) -> bool:
        """Move it or change its kind or debounce window; False when nothing changed."""
        checked = _checked_place(self.name, kind, lot_code, zone, debounce_s)
        current = {"kind": self.kind.value, "lot_code": self.lot_code, "zone": self.zone}
        if current | {"debounce_s": int(self.debounce.total_seconds())} == checked:
            return False
        self.trigger_event(self.Reassigned, timestamp=aware(at), **checked)
        return True

    def screen(self, events: Sequence[DeviceEvent], received_at: datetime) -> tuple[list[Verdict], int | None]:
        """Decide, without changing anything, what each event of a batch is; and the clock
        offset the batch measures. Verdicts come in sequence order (so that which of two
        reads collapses does not depend on their order in the request)."""
        if len(events) > MAX_BATCH_EVENTS:
            raise BatchTooLarge(f"a batch holds at most {MAX_BATCH_EVENTS} events, got {len(events)}")
        aware(received_at, "received_at")
        verdicts: list[Verdict] = []
        batch_ids: dict[str, int] = {}
        batch_sequences: dict[int, str] = {}
        for event in sorted(events, key=lambda e: e.sequence):
            verdicts.append(self._classify(event, batch_ids, batch_sequences))
        new = [v for v in verdicts if v.status is Status.ACCEPTED]
        samples = ((v.event.device_time, received_at) for v in new if not v.event.offline)
        offset = clock.offset_ms(samples, self.clock_offset_ms)
        reads: dict[str, datetime] = {}
        for verdict in new:
            verdict.at = clock.corrected(verdict.event.device_time, offset, received_at)
            if verdict.plate is not None:
                self._debounce(verdict, reads)
        return verdicts, offset

    def _classify(self, event: DeviceEvent, batch_ids: dict[str, int], batch_sequences: dict[int, str]) -> Verdict:
        problem = event.problem()
        if problem is not None:
            return Verdict(event, Status.REJECTED, problem)
        duplicate, refusal = self.receipts.known(event.event_id, event.sequence)
        if duplicate or event.event_id in batch_ids:
            return Verdict(event, Status.DUPLICATE, "already received")
        holder = batch_sequences.get(event.sequence)
        if holder is not None:
            refusal = f"sequence {event.sequence} already belongs to event {holder!r}"
        if refusal is not None:
            return Verdict(event, Status.REJECTED, refusal)
        plate = None
        if event.plate is not None:
            try:
                plate = normalise_plate(event.plate)
            except UnreadablePlate as unreadable:
                return Verdict(event, Status.REJECTED, str(unreadable))
        batch_ids[event.event_id] = event.sequence
        batch_sequences[event.sequence] = event.event_id
        return Verdict(event, Status.ACCEPTED, plate=plate)

    def _debounce(self, verdict: Verdict, reads: dict[str, datetime]) -> None:
        assert verdict.at is not None
        assert verdict.plate is not None
        key = f"{verdict.event.kind}:{verdict.plate}"
        last = reads.get(key) or self.last_reads.get(key)
        if last is not None and abs(verdict.at - last) <= self.debounce:
            verdict.status, verdict.reason = Status.DUPLICATE, DEBOUNCED
            return
        reads[key] = verdict.at

    def record(self, verdicts: Sequence[Verdict], offset: int | None, received_at: datetime) -> list[Gap]:
        """Record a screened batch (first deliveries only); return the sequence gaps it opened."""
        records = [v.as_record() for v in verdicts if v.recorded]
        opened: list[Gap] = []
        high, gaps = self.receipts.high, self.receipts.gaps
        for record in records:
            high, gaps, gap = advance(high, gaps, record["sequence"])
            if gap is not None:
                opened.append(gap)
        if records:
            self.trigger_event(
                self.BatchReceived,
                timestamp=received_at,
                received_at=received_at,
                clock_offset_ms=offset,
                events=records,
            )
        return opened

    def take(self, received_at: datetime, offset: int | None, records: list[dict[str, Any]]) -> None:
        for record in records:
            self.receipts.see(record["sequence"])
            if record["status"] == Status.REJECTED:
                continue
            self.receipts.take(record["event_id"], record["sequence"])
            kind = EventKind(record["kind"])
            if record["status"] == Status.ACCEPTED:
                self.events_taken += 1
                if kind.reads_plate:
                    self.last_reads[f"{kind}:{record['plate']}"] = datetime.fromisoformat(record["at"])
                elif kind in (EventKind.COMMS_LOST, EventKind.COMMS_RESTORED):
                    self.comms_up = kind is EventKind.COMMS_RESTORED
        self.receipts.forget_old()
        if self.last_reads:
            newest = max(self.last_reads.values())
            self.last_reads = {k: at for k, at in self.last_reads.items() if newest - at <= self.debounce}
        self.clock_offset_ms = offset
        self.last_received_at = received_at


def _checked_place(name: str, kind: DeviceKind, lot_code: str, zone: str, debounce_s: int) -> dict[str, Any]:
    label(name, "device_id")
    choice(DeviceKind, kind, "kind")
    label(lot_code, "lot_code")
    label(zone, "zone")
    if isinstance(debounce_s, bool) or not isinstance(debounce_s, int) or not 0 <= debounce_s <= MAX_DEBOUNCE_S:
        raise InvalidValue(f"debounce_s must be a whole number of seconds in 0..{MAX_DEBOUNCE_S}")
    return {"kind": kind.value, "lot_code": lot_code, "zone": zone, "debounce_s": debounce_s}
