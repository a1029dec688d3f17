"""`ReadBatcher`: reads of one turn of the loop, and those asked while the connections are
busy, go as one batch; each caller gets its own key's answer or its batch's error."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from adapters.eventstore.read_batching import ReadBatcher


class Backend:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail: Exception | None = None

    async def run(self, keys: Sequence[int]) -> list[str]:
        self.batches.append(list(keys))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
            if self.fail is not None:
                raise self.fail
            return [f"v{k}" for k in keys]
        finally:
            self.in_flight -= 1


async def test_reads_of_one_turn_are_one_batch_of_distinct_keys() -> None:
    backend = Backend()
    batcher = ReadBatcher(backend.run, max_in_flight=2)
    answers = await asyncio.gather(*(batcher.read(k) for k in (1, 2, 2, 3)))
    assert answers == ["v1", "v2", "v2", "v3"]
    assert backend.batches == [[1, 2, 3]]


async def test_reads_asked_while_connections_are_busy_wait_and_go_together() -> None:
    backend = Backend()
    backend.release.clear()
    batcher = ReadBatcher(backend.run, max_in_flight=1)
    first = asyncio.ensure_future(batcher.read(1))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(batcher.read(k)) for k in (2, 3)]
    await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)
    assert backend.batches == [[1]]  # the one connection is busy: 2 and 3 wait
    backend.release.set()
    assert await first == "v1"
    assert [await f for f in later] == ["v2", "v3"]
    assert backend.batches == [[1], [2, 3]]
    assert backend.most_in_flight == 1


async def test_batches_are_bounded_in_size() -> None:
    backend = Backend()
    batcher = ReadBatcher(backend.run, max_in_flight=4, max_batch=2)
    assert await asyncio.gather(*(batcher.read(k) for k in range(5))) == [f"v{k}" for k in range(5)]
    assert backend.batches == [[0, 1], [2, 3], [4]]


async def test_a_failed_batch_fails_each_of_its_reads_and_the_next_batch_runs() -> None:
    backend = Backend()
    backend.fail = ConnectionResetError("gone")
    batcher = ReadBatcher(backend.run, max_in_flight=1)
    outcomes = await asyncio.gather(batcher.read(1), batcher.read(2), return_exceptions=True)
    assert [type(o) for o in outcomes] == [ConnectionResetError, ConnectionResetError]
    backend.fail = None
    assert await batcher.read(1) == "v1"


async def test_a_caller_that_stops_waiting_leaves_the_others_their_answers() -> None:
    backend = Backend()
    backend.release.clear()
    batcher = ReadBatcher(backend.run, max_in_flight=1)
    impatient = asyncio.ensure_future(batcher.read(1))
    patient = asyncio.ensure_future(batcher.read(1))
    await asyncio.sleep(0.01)
    impatient.cancel()
    backend.release.set()
    assert await patient == "v1"
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_close_waits_for_the_reads_on_their_way() -> None:
    backend = Backend()
    backend.release.clear()
    batcher = ReadBatcher(backend.run, max_in_flight=1)
    reads = [asyncio.ensure_future(batcher.read(k)) for k in (1, 2)]
    await asyncio.sleep(0.01)
    closing = asyncio.ensure_future(batcher.close())
    await asyncio.sleep(0.01)
    assert not closing.done()
    backend.release.set()
    await closing
    assert [r.result() for r in reads] == ["v1", "v2"]


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ReadBatcher(Backend().run, max_in_flight=0)
