"""Reads of concurrent requests shared in one statement (the read side's group commit).

Every read statement costs a round trip: a socket write and a read on the loop, a wakeup
of the PostgreSQL backend, its parse/bind/execute. Under load most of a payment's worker
CPU went to those round trips (BENCHMARKS.md). A `ReadBatcher` gathers the reads asked for
during one turn of the event loop, and while ``max_in_flight`` batches are already on
their way, and sends them as one statement (``run``), as many at once as the read pool
has connections.

Nothing about a read's freshness changes: a batch is sent after every read in it was
asked for, so each sees at least every commit acknowledged before its caller asked. A
failed statement fails every read of its batch with the same error; a caller that stops
waiting (its request timed out) leaves the others' answers alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

BatchRun = Callable[[Sequence[K]], Awaitable[Sequence[R]]]
"""Answers distinct keys, one result per key in their order, in one statement."""


class ReadBatcher(Generic[K, R]):
    def __init__(self, run: BatchRun[K, R], *, max_in_flight: int, max_batch: int = 500) -> None:
        if max_in_flight < 1 or max_batch < 1:
            raise ValueError("max_in_flight and max_batch must be at least 1")
        self._run = run
        self._max_in_flight = max_in_flight
        self._max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[R]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self.batches = 0  # statements sent, for tests and benchmarks
        self.reads = 0

    async def read(self, key: K) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        self.reads += 1
        if not self._scheduled:
            self._scheduled = True
            # the other requests' reads of this turn of the loop join this one
            asyncio.get_running_loop().call_soon(self._dispatch)
        return await future

    def _dispatch(self) -> None:
        self._scheduled = False
        while self._waiting and len(self._tasks) < self._max_in_flight:
            keys = list(self._waiting)[: self._max_batch]
            batch = {key: self._waiting.pop(key) for key in keys}
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._waiting and not self._scheduled:
            self._dispatch()  # what waited for a free connection goes now, as one batch

    async def _send(self, batch: dict[K, list[asyncio.Future[R]]]) -> None:
        self.batches += 1
        keys = list(batch)
        try:
            results = await self._run(keys)
        except asyncio.CancelledError:
            for futures in batch.values():
                for future in futures:
                    future.cancel()
            raise
        except Exception as exc:  # handed to every waiter, who raises it
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, result in zip(keys, results, strict=True):
            for future in batch[key]:
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for the batches on their way (their callers get their answers)."""
        while self._tasks or self._waiting:
            if self._waiting and not self._tasks:
                self._dispatch()
            await asyncio.gather(*self._tasks, return_exceptions=True)
