"""Idempotency through the use case: any redelivery of a gate's batches leaves the same
device log, parking sessions and presences as delivering each batch once."""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.sqlite import SqliteEventStore
from domain.model.devices import Device, PlatePresence, device_id
from domain.model.parking import ParkingSession
from domain.services.devices import ingestion_cache
from domain.services.unit_of_work import UnitOfWork
from tests.support.devices import NORTH, open_gates, send
from tests.support.parking import open_lot
from tests.unit.devices.builders import SECOND, T0, state
from tests.unit.devices.strategies import Delivery, histories, with_redeliveries


async def outcome(deliveries: list[Delivery], cached: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = await SqliteEventStore.open(f"sqlite:///{folder}/events.db", codec=CodecOptions())
        try:
            await open_lot(store, wallet_vnd=0)
            await open_gates(store)
            cache = ingestion_cache() if cached else None
            for delivery in deliveries:
                await send(store, NORTH, delivery.events, T0 + delivery.received_s * SECOND, cache=cache)
            return await everything(store)
        finally:
            await store.close()


async def everything(store: Any) -> dict[str, Any]:
    streams: dict[UUID, str] = {}
    for record in await store.read_log(0, 100_000):
        streams.setdefault(record.stream_id, record.topic.rsplit(".", 1)[0])
    uow = UnitOfWork(store)
    sessions, presences = {}, {}
    for stream, topic in sorted(streams.items()):
        if topic.endswith("ParkingSession"):
            s = await uow.get(ParkingSession, stream)
            sessions[str(stream)] = (s.status, s.plate, s.started_at, s.ended_at, s.fee_vnd, s.amount_due_vnd)
        elif topic.endswith("PlatePresence"):
            p = await uow.get(PlatePresence, stream)
            presences[p.plate] = p.session_id
    device = state(await uow.get(Device, device_id(NORTH)))
    return {"device": device, "sessions": sessions, "presences": presences}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), histories(max_batches=4), st.booleans())
def test_any_redelivery_leaves_the_same_sessions(data: st.DataObject, history: list[Delivery], cached: bool) -> None:
    once = asyncio.run(outcome(history, cached=False))
    messy = asyncio.run(outcome(data.draw(with_redeliveries(history)), cached=cached))
    assert messy == once
