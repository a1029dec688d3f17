"""Device batches through the use case on both stores: sessions, money, anomalies, redelivery."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.model.devices import DeviceKind, EventKind
from domain.model.errors import NotFound
from domain.model.parking import Channel, ParkingSession, PaymentMethod, SessionStatus
from domain.services.devices import RegisterDevice, get_device, ingestion_cache, register_device
from domain.services.parking import EndSession, end_session
from domain.services.unit_of_work import UnitOfWork
from tests.support.devices import NORTH, SOUTH, by_id, open_gates, read, send
from tests.support.parking import HOUR, LOT, MIN, OPERATOR_CASH, OPERATOR_PAYABLE, T0, open_lot, posted, run

pytestmark = pytest.mark.usefixtures("backend")


async def session(store: Any, answer: dict[str, Any]) -> ParkingSession:
    return await UnitOfWork(store).get(ParkingSession, UUID(answer["session_id"]))


async def test_an_entry_and_an_exit_at_two_gates_make_one_paid_session(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    entered = by_id(await send(store, NORTH, [read(1, EventKind.ENTRY, T0, "29a12345")]))["ev-1"]
    assert entered["status"] == "accepted"
    started = await session(store, entered)
    assert (started.status, started.plate, started.started_via.value) == (SessionStatus.ACTIVE, "29A-123.45", "gate")
    exit_at = T0 + 2 * HOUR + 30 * MIN
    left = by_id(
        await send(store, SOUTH, [read(1, EventKind.EXIT, exit_at, "29A-123.45", payment_method=PaymentMethod.CASH)])
    )["ev-1"]
    assert left["session_id"] == entered["session_id"]
    assert (left["fee_vnd"], left["amount_due_vnd"]) == (85_000, 0)  # 25k + 25k + 35k by the car tariff
    ended = await session(store, entered)
    assert ended.status is SessionStatus.ENDED
    assert ended.ended_at is not None
    assert ended.ended_at - started.started_at == 2 * HOUR + 30 * MIN  # both clocks measured the same offset
    assert await posted(store, OPERATOR_CASH, OPERATOR_PAYABLE) == {OPERATOR_CASH: 85_000, OPERATOR_PAYABLE: 85_000}


async def test_a_qr_exit_leaves_the_fee_due(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    await send(store, NORTH, [read(1, EventKind.ENTRY, T0, "30E-1234")])
    left = by_id(await send(store, SOUTH, [read(1, EventKind.EXIT, T0 + 50 * MIN, "30e1234")]))["ev-1"]
    assert (left["fee_vnd"], left["amount_due_vnd"]) == (25_000, 25_000)


async def test_exceptions_are_recorded_not_dropped(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    answer = by_id(
        await send(
            store,
            NORTH,
            [
                read(1, EventKind.EXIT, T0, "51F-999.99"),  # never seen coming in
                read(2, EventKind.ENTRY, T0 + MIN, "29A-123.45"),
                read(3, EventKind.ENTRY, T0 + HOUR, "29A-123.45"),  # its exit was missed
            ],
        )
    )
    assert answer["ev-1"] == {"event_id": "ev-1", "status": "accepted", "anomaly": "exit_without_entry"}
    assert answer["ev-3"]["anomaly"] == "entry_while_present"
    first = await session(store, answer["ev-2"])
    assert first.status is SessionStatus.ACTIVE  # left for an attendant to end
    left = by_id(await send(store, SOUTH, [read(1, EventKind.EXIT, T0 + 2 * HOUR, "29A-123.45")]))["ev-1"]
    assert left["session_id"] == answer["ev-3"]["session_id"]


async def test_an_exit_of_a_session_ended_elsewhere_is_an_exception(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    entered = by_id(await send(store, NORTH, [read(1, EventKind.ENTRY, T0, "29A-123.45")]))["ev-1"]
    command = EndSession(UUID(entered["session_id"]), PaymentMethod.CASH, Channel.ATTENDANT, T0 + HOUR)
    await run(store, end_session(command))
    left = by_id(await send(store, SOUTH, [read(1, EventKind.EXIT, T0 + 2 * HOUR, "29A-123.45")]))["ev-1"]
    assert left["anomaly"] == "exit_without_entry"
    again = by_id(await send(store, SOUTH, [read(2, EventKind.EXIT, T0 + 3 * HOUR, "29A-123.45")]))["ev-2"]
    assert again["anomaly"] == "exit_without_entry"


async def test_a_refused_exit_is_rejected_and_can_be_sent_again(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    await send(store, NORTH, [read(1, EventKind.ENTRY, T0, "29A-123.45")])
    # The south gate's clock is an hour behind and it has not been measured yet: its
    # first event is an offline one, so its exit seems to precede the entry.
    early = read(1, EventKind.EXIT, T0 - HOUR, "29A-123.45", offline=True)
    answer = by_id(await send(store, SOUTH, [early], received_at=T0 + MIN))["ev-1"]
    assert answer["status"] == "rejected"
    assert "before it started" in answer["reason"]
    resent = read(1, EventKind.EXIT, T0 + 30 * MIN, "29A-123.45")
    assert by_id(await send(store, SOUTH, [resent]))["ev-1"]["status"] == "accepted"


async def test_a_redelivered_batch_appends_nothing(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    batch = [read(1, EventKind.ENTRY, T0, "29A-123.45"), read(2, EventKind.HEARTBEAT, T0 + MIN)]
    first = await send(store, NORTH, batch)
    head = await store.head()
    again = await send(store, NORTH, batch[::-1], received_at=T0 + HOUR)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert await store.head() == head
    assert first["accepted"] == 2


async def test_a_batch_is_one_append_and_reads_in_few_round_trips(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    plates = [f"29A-{n:03d}.45" for n in range(100, 300)]
    await send(store, NORTH, [read(i + 1, EventKind.ENTRY, T0 + i * MIN, p) for i, p in enumerate(plates)])
    counted = Counting(store)
    exits = [read(i + 1, EventKind.EXIT, T0 + 5 * HOUR + i * MIN, p) for i, p in enumerate(plates)]
    answer = await send(counted, SOUTH, exits, cache=ingestion_cache())
    assert answer["accepted"] == len(plates)
    assert counted.appends == 1
    assert counted.loads == 2  # device, lot
    assert counted.streams_at_once == [len(plates), len(plates)]  # every plate's presence, then its session


async def test_cached_and_fresh_instances_agree(store: Any, open_store: Any) -> None:
    """Two service processes with their own caches take turns with one device."""
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    other = await open_store()
    caches = [ingestion_cache(), ingestion_cache()]
    stores = [store, other]
    for i in range(6):
        batch = [read(2 * i + 1, EventKind.HEARTBEAT, T0 + i * MIN), read(2 * i + 2, EventKind.HEARTBEAT, T0 + i * MIN)]
        await send(stores[i % 2], NORTH, batch, cache=caches[i % 2])
        replay = await send(stores[(i + 1) % 2], NORTH, batch, cache=caches[(i + 1) % 2])
        assert replay["duplicates"] == 2
    view = await run(store, get_device(NORTH))
    assert (view["events_taken"], view["last_sequence"], view["open_gaps"]) == (12, 12, [])


async def test_devices_are_registered_for_a_zone_of_a_lot(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    at = T0 - HOUR
    created = await run(store, register_device(RegisterDevice("meter-7", DeviceKind.METER, LOT, "A", at, 10)))
    assert (created["created"], created["kind"], created["debounce_s"]) == (True, "meter", 10)
    again = await run(store, register_device(RegisterDevice("meter-7", DeviceKind.METER, LOT, "A", at, 20)))
    assert (again["created"], again["debounce_s"]) == (False, 20)
    with pytest.raises(NotFound):
        await run(store, register_device(RegisterDevice("meter-8", DeviceKind.METER, LOT, "Z", at)))
    with pytest.raises(NotFound):
        await run(store, register_device(RegisterDevice("meter-8", DeviceKind.METER, "NO-LOT", "A", at)))
    with pytest.raises(NotFound):
        await send(store, "meter-8", [read(1, EventKind.HEARTBEAT, T0)])


class Counting:
    """The store, counting what a use case asks of it."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.appends = 0
        self.loads = 0
        self.in_flight = self.most_in_flight = 0
        self.streams_at_once: list[int] = []  # each load_many: how many streams in one round trip

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        self.appends += 1
        return await self._store.append(*args, **kwargs)

    async def load(self, *args: Any, **kwargs: Any) -> Any:
        self.loads += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._store.load(*args, **kwargs)
        finally:
            self.in_flight -= 1

    async def load_many(self, after_versions: Any) -> Any:
        self.streams_at_once.append(len(after_versions))
        return await self._store.load_many(after_versions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
