"""Meter and gate use cases: register a device, ingest a batch of its events.

A batch is one unit of work: the device's log records every first delivery in one
event, entries and exits start and end parking sessions through the parking use cases
(`domain.services.parking`) in the same unit, and everything is appended in one atomic
write. The streams it reads are fetched together (`UnitOfWork.prefetch`), not one round
trip per event, and the device and its lot stay cached between batches
(`ingestion_cache`), so a batch of a thousand events costs a handful of round trips.
Redelivering a batch, whole or in part and in any order, changes nothing and appends
nothing (`Device` deduplicates by event id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import uuid5

from domain.model.devices import (
    Anomaly,
    Device,
    DeviceEvent,
    DeviceKind,
    EventKind,
    PlatePresence,
    Status,
    Verdict,
    device_id,
    presence_id,
)
from domain.model.devices.device import DEFAULT_DEBOUNCE_S, DEVICE_NAMESPACE
from domain.model.devices.receipts import Gap
from domain.model.errors import DomainError, NotFound
from domain.model.parking.arrivals import Arrival
from domain.model.parking.common import PaymentMethod, lot_id, session_id
from domain.model.parking.lots import ParkingLot
from domain.model.parking.sessions import ParkingSession, SessionStatus
from domain.services.aggregate_cache import DEFAULT_MAX_AGGREGATES, AggregateCache
from domain.services.parking import EndSession, begin_session, end_session
from domain.services.unit_of_work import UnitOfWork, UseCase


@dataclass(frozen=True, slots=True)
class RegisterDevice:
    name: str
    kind: DeviceKind
    lot_code: str
    zone: str
    at: datetime
    debounce_s: int = DEFAULT_DEBOUNCE_S


@dataclass(frozen=True, slots=True)
class IngestBatch:
    device: str
    events: Sequence[DeviceEvent]
    received_at: datetime


def ingestion_cache(max_aggregates: int = DEFAULT_MAX_AGGREGATES) -> AggregateCache:
    """What `ingest_batch` should run with (``execute(..., cache=...)``): devices and lots."""
    return AggregateCache((Device, ParkingLot), max_aggregates)


def device_view(device: Device) -> dict[str, Any]:
    return {
        "device_id": device.name,
        "kind": device.kind.value,
        "lot_code": device.lot_code,
        "zone": device.zone,
        "debounce_s": int(device.debounce.total_seconds()),
        "clock_offset_ms": device.clock_offset_ms,
        "comms_up": device.comms_up,
        "last_sequence": device.receipts.high,
        "open_gaps": [{"first": a, "last": b} for a, b in device.receipts.gaps],
        "events_taken": device.events_taken,
        "last_received_at": device.last_received_at.isoformat() if device.last_received_at else None,
    }


def register_device(cmd: RegisterDevice) -> UseCase:
    """Register a device for a zone of a lot, or move it; ``created`` says which."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        lot = await uow.get(ParkingLot, lot_id(cmd.lot_code))
        if cmd.zone not in lot.zones:
            raise NotFound(f"lot {cmd.lot_code} has no zone {cmd.zone!r}")
        found = await uow.find(Device, device_id(cmd.name))
        if found is None:
            found = Device.register(cmd.name, cmd.kind, cmd.lot_code, cmd.zone, cmd.debounce_s, cmd.at)
            uow.add(found)
            return device_view(found) | {"created": True}
        found.reassign(cmd.kind, cmd.lot_code, cmd.zone, cmd.debounce_s, cmd.at)
        return device_view(found) | {"created": False}

    return use_case


def get_device(name: str) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        return device_view(await uow.get(Device, device_id(name)))

    return use_case


def ingest_batch(cmd: IngestBatch) -> UseCase:
    """Screen the batch, drive parking with its new entries and exits, record it."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        device = await uow.get(Device, device_id(cmd.device))
        verdicts, offset = device.screen(cmd.events, cmd.received_at)
        driving = [v for v in verdicts if v.drives_parking]
        if driving:
            await _drive_parking(uow, device, driving)
        gaps = device.record(verdicts, offset, cmd.received_at)
        return _answer(cmd, verdicts, gaps, offset)

    return use_case


@lru_cache(maxsize=4_096)  # asked twice per entry of a batch
def entry_reference(device: str, event_id: str) -> str:
    """The session reference of a device's entry: unique per device and event id."""
    return uuid5(DEVICE_NAMESPACE, f"{device}\x00{event_id}").hex


async def _drive_parking(uow: UnitOfWork, device: Device, verdicts: list[Verdict]) -> None:
    lot = await uow.get(ParkingLot, lot_id(device.lot_code))
    plates = {v.plate for v in verdicts if v.plate is not None}
    await uow.prefetch(PlatePresence, (presence_id(lot.id, p) for p in plates))
    entries = [v for v in verdicts if v.event.kind is EventKind.ENTRY]
    sessions = [session_id(lot.id, entry_reference(device.name, v.event.event_id)) for v in entries]
    for plate in plates:
        presence = await uow.find(PlatePresence, presence_id(lot.id, plate))
        if presence is not None and presence.session_id is not None:
            sessions.append(presence.session_id)
    await uow.prefetch(ParkingSession, sessions)
    for verdict in verdicts:
        try:
            if verdict.event.kind is EventKind.ENTRY:
                await _enter(uow, lot, device, verdict)
            else:
                await _exit(uow, lot, device, verdict)
        except DomainError as refused:
            # A refused command changed nothing (DomainError's contract), so the rest of
            # the batch goes on; the device learns why and may send the event again.
            verdict.reject(str(refused))


async def _enter(uow: UnitOfWork, lot: ParkingLot, device: Device, verdict: Verdict) -> None:
    assert verdict.plate is not None
    assert verdict.at is not None
    arrival = Arrival(
        reference=entry_reference(device.name, verdict.event.event_id),
        zone=device.zone,
        vehicle_class=verdict.event.vehicle_class,
        plate=verdict.plate,
        channel=device.kind.channel,
        device_id=device.name,
    )
    session = (await begin_session(uow, lot, arrival, verdict.at)).id
    presence = await uow.find(PlatePresence, presence_id(lot.id, verdict.plate))
    if presence is None:
        uow.add(PlatePresence.first_entry(lot.id, verdict.plate, session, verdict.at))
    elif presence.enter(session, verdict.at) is not None:
        verdict.anomaly = Anomaly.ENTRY_WHILE_PRESENT
    verdict.session_id = session


async def _exit(uow: UnitOfWork, lot: ParkingLot, device: Device, verdict: Verdict) -> None:
    assert verdict.plate is not None
    assert verdict.at is not None
    presence = await uow.find(PlatePresence, presence_id(lot.id, verdict.plate))
    if presence is None or presence.session_id is None:
        verdict.anomaly = Anomaly.EXIT_WITHOUT_ENTRY
        return
    session = await uow.get(ParkingSession, presence.session_id)
    if session.status is not SessionStatus.ACTIVE:  # ended by an attendant or the app meanwhile
        presence.leave(verdict.at)
        verdict.anomaly, verdict.session_id = Anomaly.EXIT_WITHOUT_ENTRY, session.id
        return
    method = verdict.event.payment_method or PaymentMethod.QR
    command = EndSession(
        session.id, method, device.kind.channel, verdict.at, device.name, payment_reference=verdict.event.reference
    )
    ended = await end_session(command)(uow)
    presence.leave(verdict.at)
    verdict.session_id, verdict.fee_vnd, verdict.amount_due_vnd = session.id, ended["fee_vnd"], ended["amount_due_vnd"]


def _answer(cmd: IngestBatch, verdicts: list[Verdict], gaps: list[Gap], offset: int | None) -> dict[str, Any]:
    by_event = {id(v.event): v for v in verdicts}
    counts = dict.fromkeys(Status, 0)
    for verdict in verdicts:
        counts[verdict.status] += 1
    return {
        "device_id": cmd.device,
        "accepted": counts[Status.ACCEPTED],
        "duplicates": counts[Status.DUPLICATE],
        "rejected": counts[Status.REJECTED],
        "clock_offset_ms": offset,
        "sequence_gaps": [{"first": first, "last": last} for first, last in gaps],
        "events": [by_event[id(e)].as_answer() for e in cmd.events],
    }
