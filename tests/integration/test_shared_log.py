"""The leader's projection runners read the log together (`SharedLog`): each record is
read from the store and decoded once, however many runners follow the log, and every
projection still gets every event and ends with the rows it gets on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.model.parking import PaymentMethod
from domain.ports import LogRecord
from domain.services.memory_projections import InMemoryProjectionStore
from domain.services.projections import ProjectionRunner
from domain.services.shared_log import SharedLog
from ops.projections import projections
from tests.support.parking import HOUR, MIN, T0, arrival, end, open_lot, start
from tests.support.settlement import collect


class CountingLog:
    """The store, counting the records it reads and the events it decodes."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.reads = 0
        self.records_read = 0
        self.decoded: list[int] = []
        self.waits = 0

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        self.reads += 1
        records: list[LogRecord] = await self._store.read_log(after_position, limit)
        self.records_read += len(records)
        return records

    def decode(self, record: LogRecord) -> Any:
        self.decoded.append(record.position)
        return self._store.decode(record)

    async def wait_for_append(self, after_position: int, timeout_s: float) -> None:
        self.waits += 1
        await self._store.wait_for_append(after_position, timeout_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def some_traffic(store: Any) -> None:
    await open_lot(store)
    for n in range(3):
        session = await start(store, arrival(f"gate-{n}", plate=f"29A-{n}00.45"), T0 + n * MIN)
        await end(store, session, T0 + 2 * HOUR + n * MIN, PaymentMethod.CASH if n % 2 else PaymentMethod.QR)
    await collect(store, "HS-S1", "counter", T0 + HOUR)


async def on_their_own(store: Any) -> dict[str, Any]:
    rows = {}
    for projection in projections():
        scratch = InMemoryProjectionStore()
        await ProjectionRunner(store, scratch, projection).catch_up()
        rows[projection.name] = await scratch.all_rows(projection.name)
    return rows


async def test_runners_sharing_the_log_read_and_decode_each_event_once(store: Any) -> None:
    await some_traffic(store)
    head = (await store.head()).position
    counting = CountingLog(store)
    shared = SharedLog(counting)
    rows = InMemoryProjectionStore()
    runners = [ProjectionRunner(shared, rows, p, page_size=4) for p in projections()]
    reached = await asyncio.gather(*(r.catch_up() for r in runners))
    assert reached == [head] * len(runners)
    assert counting.records_read == head  # once, not once per runner
    assert sorted(counting.decoded) == list(range(1, head + 1))
    expected = await on_their_own(store)
    for projection in projections():
        assert await rows.all_rows(projection.name) == expected[projection.name], projection.name
    assert expected["parking_occupancy"]


async def test_a_runner_behind_the_shared_records_reads_the_store_again(store: Any) -> None:
    await some_traffic(store)
    head = (await store.head()).position
    counting = CountingLog(store)
    shared = SharedLog(counting, keep=3)  # forgets all but the 3 latest records
    first, second = projections()[:2]
    rows = InMemoryProjectionStore()
    await ProjectionRunner(shared, rows, first, page_size=4).catch_up()
    assert counting.records_read == head
    await ProjectionRunner(shared, rows, second, page_size=4).catch_up()
    assert head < counting.records_read <= 2 * head  # the forgotten ones again, the kept ones not
    expected = await on_their_own(store)
    assert await rows.all_rows(second.name) == expected[second.name]


async def test_new_events_are_read_as_they_come(store: Any) -> None:
    await open_lot(store)
    shared = SharedLog(store)
    rows = InMemoryProjectionStore()
    runners = [ProjectionRunner(shared, rows, p) for p in projections()]
    for runner in runners:
        await runner.catch_up()
    await start(store, arrival("gate-9", plate="30A-999.99"), T0)
    head = (await store.head()).position
    assert [await r.catch_up() for r in runners] == [head] * len(runners)
    expected = await on_their_own(store)
    assert await rows.all_rows("parking_occupancy") == expected["parking_occupancy"]


async def test_a_runner_behind_another_does_not_wait_for_the_next_append(store: Any) -> None:
    await some_traffic(store)
    counting = CountingLog(store)
    shared = SharedLog(counting)
    await shared.read_log(0, 10)  # one runner read ten records
    await shared.wait_for_append(4, timeout_s=30)  # another, at 4, goes on at once
    assert counting.waits == 0
    await shared.wait_for_append(10, timeout_s=0)  # past what was read: the store's wait
    assert counting.waits == 1
