"""One follower of the log for every live stream of changes (server-sent events).

A page or client that waits for one payment to change registers its stream id; a single
task per process follows the store's log (`EventStore.wait_for_append`, then
`read_log`) and wakes only the waiters whose stream got an event. So a thousand counter
screens cost one log reader, not a thousand pollers, and a waiter reloads its payment
only when that payment changed. The task runs while anyone watches.

Ordering: `watching` registers the waiter (and, for the first one, reads the log's head)
before the caller loads its aggregate, so an append after that load is always seen; an
append between registering and loading wakes the waiter once more for nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from uuid import UUID

from domain.ports import EventStore

log = logging.getLogger(__name__)
READ_BATCH = 1_000
IDLE_WAIT_S = 30.0
RETRY_S = 1.0  # after a failed read of the log (the store restarting)


class StreamWatch:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._waiters: dict[UUID, set[asyncio.Event]] = {}
        self._position = 0
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def watching(self, stream_id: UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever ``stream_id`` gets new events (clear it before waiting again)."""
        changed = asyncio.Event()
        self._waiters.setdefault(stream_id, set()).add(changed)
        try:
            if self._task is None or self._task.done():
                self._position = (await self._store.head()).position
                self._task = asyncio.create_task(self._follow(), name="stream-watch")
            yield changed
        finally:
            waiters = self._waiters.get(stream_id, set())
            waiters.discard(changed)
            if not waiters:
                self._waiters.pop(stream_id, None)
            if not self._waiters:
                await self.close()

    @property
    def watched(self) -> int:
        """How many waiters are registered (for tests and metrics)."""
        return sum(len(w) for w in self._waiters.values())

    @property
    def following(self) -> bool:
        """Whether the follower task is running (it runs only while someone watches)."""
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self) -> None:
        while True:
            try:
                await self._store.wait_for_append(self._position, IDLE_WAIT_S)
                records = await self._store.read_log(self._position, READ_BATCH)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stream watch could not read the log; retrying")
                await asyncio.sleep(RETRY_S)
                continue
            for record in records:
                self._position = record.position
                for changed in self._waiters.get(record.stream_id, ()):
                    changed.set()
