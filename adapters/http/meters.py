"""Meters and gates: ``POST /v1/meters/{device_id}/events`` (the device itself), and the
device's registration and status (admin).

A batch carries no Idempotency-Key: each event's own id deduplicates it (a redelivered
batch answers ``duplicate`` per event and appends nothing). A device client may post
only for the device id its client record names (its scope).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from adapters.http.idempotency import run_write
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from domain.model.clients import Role
from domain.model.devices import MAX_BATCH_EVENTS, BatchTooLarge, DeviceEvent, DeviceKind, EventKind
from domain.model.devices.device import DEFAULT_DEBOUNCE_S, MAX_DEBOUNCE_S
from domain.model.devices.readings import MAX_EVENT_ID_LEN, MAX_REFERENCE_LEN, MAX_SEQUENCE
from domain.model.money import MAX_VND
from domain.model.parking.common import PaymentMethod, VehicleClass
from domain.services.devices import IngestBatch, RegisterDevice, get_device, ingest_batch, register_device
from domain.services.unit_of_work import execute

BATCH_BODY_MAX_BYTES = 512 * 1024  # a full batch of long events fits with room to spare
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
EventKindName = Literal["entry", "exit", "payment", "heartbeat", "comms_lost", "comms_restored"]


class DeviceEventBody(Body):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EVENT_ID_LEN)]
    sequence: Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQUENCE)]
    kind: EventKindName
    device_time: Annotated[datetime, msgspec.Meta(tz=True)]
    offline: bool = False
    plate: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    vehicle_class: Literal["car", "motorbike"] = "car"
    payment_method: Literal["cash", "qr"] | None = None
    amount_vnd: Annotated[int, msgspec.Meta(ge=1, le=MAX_VND)] | None = None
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REFERENCE_LEN)] | None = None


class BatchBody(Body):
    events: Annotated[list[DeviceEventBody], msgspec.Meta(min_length=1)]


class EventOutcome(Answer, omit_defaults=True):
    event_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None
    session_id: str | None = None
    anomaly: Literal["exit_without_entry", "entry_while_present"] | None = None
    fee_vnd: int | None = None
    amount_due_vnd: int | None = None


class SequenceGap(Answer):
    first: int
    last: int


class BatchAnswer(Answer):
    device_id: str
    accepted: int
    duplicates: int
    rejected: int
    clock_offset_ms: int | None
    sequence_gaps: list[SequenceGap]
    events: list[EventOutcome]


class DeviceBody(Body):
    kind: Literal["meter", "gate"]
    lot_code: Label
    zone: Label
    debounce_s: Annotated[int, msgspec.Meta(ge=0, le=MAX_DEBOUNCE_S)] = DEFAULT_DEBOUNCE_S


class DeviceView(Answer):
    device_id: str
    kind: Literal["meter", "gate"]
    lot_code: str
    zone: str
    debounce_s: int
    clock_offset_ms: int | None
    comms_up: bool
    last_sequence: int
    open_gaps: list[SequenceGap]
    events_taken: int
    last_received_at: str | None


def _event(body: DeviceEventBody) -> DeviceEvent:
    return DeviceEvent(
        event_id=body.event_id,
        sequence=body.sequence,
        kind=EventKind(body.kind),
        device_time=body.device_time,
        offline=body.offline,
        plate=body.plate,
        vehicle_class=VehicleClass(body.vehicle_class),
        payment_method=PaymentMethod(body.payment_method) if body.payment_method else None,
        amount_vnd=body.amount_vnd,
        reference=body.reference,
    )


async def post_events(call: Call) -> Reply:
    device = call.param("device_id")
    if call.caller is None or device not in call.caller.scope:
        raise Problem(403, "Forbidden", f"this client may not post for device {device!r}", f"{PROBLEM_BASE}forbidden")
    body: BatchBody = call.body
    if len(body.events) > MAX_BATCH_EVENTS:
        raise BatchTooLarge(f"a batch holds at most {MAX_BATCH_EVENTS} events, got {len(body.events)}")
    command = IngestBatch(device, [_event(e) for e in body.events], call.at)
    outcome = await execute(call.services.store, ingest_batch(command), cache=call.services.device_cache)
    call.services.on_device_batch(outcome.result)
    return Reply(200, outcome.result)


def _device_view(result: dict[str, Any]) -> DeviceView:
    return msgspec.convert(result, DeviceView, from_attributes=False)


def _render_device(result: dict[str, Any]) -> tuple[int, DeviceView]:
    return (201 if result.pop("created") else 200), _device_view(result)


async def put_device(call: Call) -> Reply:
    body: DeviceBody = call.body
    command = RegisterDevice(
        call.param("device_id"), DeviceKind(body.kind), body.lot_code, body.zone, call.at, body.debounce_s
    )
    return await run_write(call, register_device(command), _render_device)


async def get(call: Call) -> Reply:
    result = (await execute(call.services.store, get_device(call.param("device_id")))).result
    return Reply(200, _device_view(result))


ROUTES = [
    Route(
        "POST",
        "/v1/meters/{device_id}/events",
        post_events,
        roles(Role.DEVICE),
        "Report a batch of up to 1,000 device events; each is answered accepted, duplicate or rejected",
        request=BatchBody,
        response=BatchAnswer,
        body_max_bytes=BATCH_BODY_MAX_BYTES,
        keyed=False,
    ),
    Route(
        "PUT",
        "/v1/meters/{device_id}",
        put_device,
        roles(Role.ADMIN),
        "Register a meter or gate for a zone of a lot, or move it",
        request=DeviceBody,
        response=DeviceView,
        other_statuses=(201,),
    ),
    Route(
        "GET",
        "/v1/meters/{device_id}",
        get,
        roles(Role.ADMIN),
        "A device's registration, clock offset, last sequence number and open gaps",
        response=DeviceView,
    ),
]
