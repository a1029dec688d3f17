"""Group commit: concurrent appends share one transaction.

Appends are queued; one writer task takes what has accumulated and hands it to the
backend as one transaction. How much it takes follows the load (`batch_sizing`): half of
what is in play, so that one batch commits while the event loop prepares the next, never
more than ``max_batch_events`` events. With ``max_wait_ms`` set, the writer instead
waits up to that long for more appends, up to ``max_batch_events``; with
``adaptive=False`` it takes what is queued, up to ``max_batch_events`` (the behaviour
before issue 14). At low load an append waits for nobody.

Each caller's future is resolved only after its batch committed. A conflicting append
(stream version taken, idempotency key already used) is answered with its own error or
replay, and the rest of its batch is committed without it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from adapters.eventstore.batch_sizing import BatchSizing
from adapters.eventstore.codec import EncodedEvent
from domain.ports import (
    Committed,
    EventStoreError,
    IdempotencyKeyReused,
    IdempotencyRecord,
    StreamConflict,
)

log = logging.getLogger(__name__)

# The hard bound on one batch (the batch taken is normally smaller, see batch_sizing):
# ~2,048 rows of a few hundred bytes is one statement of well under a megabyte.
DEFAULT_BATCH_EVENTS = 2048

# A batch whose rows collide is re-planned without the colliding appends; more rounds
# than this means the backend keeps reporting a collision it cannot name.
_MAX_COLLISION_ROUNDS = 8


class StoreClosed(EventStoreError):
    """The store was closed; the append was not written."""


class RowCollision(Exception):
    """Raised by a backend when its batch hit a unique constraint; nothing was written."""


@dataclass(slots=True)
class PendingAppend:
    rows: list[EncodedEvent]
    idempotency: IdempotencyRecord | None
    future: asyncio.Future[Committed]

    @property
    def idempotency_scope(self) -> tuple[str, str] | None:
        i = self.idempotency
        return None if i is None else (i.client_id, i.key)


@dataclass(frozen=True, slots=True)
class StoredIdempotency:
    record: IdempotencyRecord
    first_position: int
    last_position: int


class BatchBackend(Protocol):
    async def commit_batch(self, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
        """Write every append of the batch in one transaction; return each one's
        ``(first, last)`` position. Raise `RowCollision` (having written nothing) when a
        row or idempotency key already exists."""
        ...

    async def find_existing(
        self, batch: Sequence[PendingAppend]
    ) -> tuple[set[tuple[UUID, int]], dict[tuple[str, str], StoredIdempotency]]:
        """Which of the batch's ``(stream_id, version)`` and idempotency keys are stored."""
        ...


@dataclass(slots=True)
class GroupCommitStats:
    batches: int = 0
    appends: int = 0
    events: int = 0
    max_batch_events: int = 0
    collisions: int = 0
    batch_sizes: list[int] = field(default_factory=list)


class GroupCommitter:
    """Bounded queue in front of one writer; see the module docstring."""

    def __init__(
        self,
        backend: BatchBackend,
        *,
        max_batch_events: int = DEFAULT_BATCH_EVENTS,
        max_wait_ms: float = 0.0,
        max_pending: int = 10_000,
        keep_batch_sizes: int = 0,
        adaptive: bool = True,
    ) -> None:
        assert max_batch_events > 0
        assert max_pending > 0
        assert max_wait_ms >= 0
        self._backend = backend
        self._max_batch_events = max_batch_events
        self._max_wait_s = max_wait_ms / 1000
        self._max_pending = max_pending
        self._pending: collections.deque[PendingAppend] = collections.deque()
        self._pending_events = 0  # events (at least 1 an append) of the queued appends
        # events (at least 1 an append) the last batch answered, and of those the ones
        # whose callers have not appended again yet (an estimate: any new append counts
        # as one coming back)
        self._answered = 0
        self._coming_back = 0
        self.sizing = BatchSizing(max_batch_events)
        self._adaptive = adaptive  # False: every batch takes what is queued, up to the cap
        self._work: asyncio.Future[None] | None = None  # the writer waits on it when idle
        self._space = asyncio.Event()  # set while fewer than max_pending appends wait
        self._space.set()
        self._drained = asyncio.Event()  # set when nothing is queued or being committed
        self._drained.set()
        self._keep_batch_sizes = keep_batch_sizes
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.stats = GroupCommitStats()
        self.on_batch: list[BatchObserver] = []
        # the last position this committer's batches wrote (0 before the first event):
        # waiters of this process learn of its commits without reading the head
        self.committed_position = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="eventstore-group-commit")

    async def close(self) -> None:
        """Stop taking appends; finish what is queued, then stop the writer."""
        self._closed = True
        if self._task is None:
            return
        await self._drained.wait()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def submit(self, rows: list[EncodedEvent], idempotency: IdempotencyRecord | None) -> Committed:
        if self._closed:
            raise StoreClosed("event store is closed")
        while len(self._pending) >= self._max_pending:  # back-pressure
            self._space.clear()
            await self._space.wait()
        future: asyncio.Future[Committed] = asyncio.get_running_loop().create_future()
        self._pending.append(PendingAppend(rows, idempotency, future))
        self._pending_events += max(1, len(rows))
        self._coming_back = max(0, self._coming_back - max(1, len(rows)))
        self._drained.clear()
        if self._work is not None and not self._work.done():
            self._work.set_result(None)
        return await future

    async def _run(self) -> None:
        while True:
            batch = await self._take_batch()
            try:
                await self._commit(batch)
                self._answered = self._coming_back = sum(max(1, len(p.rows)) for p in batch)
            except Exception as exc:  # the batch was not written: every caller learns it
                log.exception("event store batch of %d appends failed", len(batch))
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
            finally:
                if not self._pending:
                    self._drained.set()

    async def _wait_for_work(self, timeout_s: float | None) -> bool:
        """Wait until an append is queued; False on timeout."""
        self._work = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._work, timeout_s)
        except TimeoutError:
            return False
        finally:
            self._work = None
        return True

    async def _take_batch(self) -> list[PendingAppend]:
        pending = self._pending
        while not pending:
            await self._wait_for_work(None)
        if self._max_wait_s > 0:
            batch = await self._take_waiting(self._max_batch_events)
        elif not self._adaptive:
            batch = self._take_queued(self._max_batch_events)
        else:
            batch = self._take_queued(self.sizing.target(self._pending_events, self._coming_back, self._answered))
        if len(pending) < self._max_pending:
            self._space.set()
        return batch

    def _take_queued(self, target: int) -> list[PendingAppend]:
        """The oldest queued appends up to ``target`` events; at least one append, and an
        append is never split (a bigger one opens the next batch)."""
        pending = self._pending
        first = self._pop()
        batch, size = [first], max(1, len(first.rows))
        while pending and size < target:
            rows = max(1, len(pending[0].rows))
            if size + rows > self._max_batch_events:
                break
            batch.append(self._pop())
            size += rows
        return batch

    async def _take_waiting(self, target: int) -> list[PendingAppend]:
        """Fixed-wait mode (``max_wait_ms`` set): wait up to that long for more appends."""
        pending = self._pending
        first = self._pop()
        batch, size = [first], max(1, len(first.rows))
        deadline = asyncio.get_running_loop().time() + self._max_wait_s
        while size < target:
            if not pending:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0 or not await self._wait_for_work(remaining):
                    break
                continue
            rows = max(1, len(pending[0].rows))
            if size + rows > target:
                break  # an append is never split; it opens the next batch
            batch.append(self._pop())
            size += rows
        return batch

    def _pop(self) -> PendingAppend:
        pending = self._pending.popleft()
        self._pending_events -= max(1, len(pending.rows))
        return pending

    async def _commit(self, batch: list[PendingAppend]) -> None:
        todo, deferred = _split_in_batch_duplicates(batch)
        for _ in range(_MAX_COLLISION_ROUNDS):
            if not todo:
                break
            try:
                ranges = await self._backend.commit_batch(todo)
            except RowCollision:
                self.stats.collisions += 1
                todo = await self._answer_collisions(todo)
                continue
            self._record(todo, ranges)
            for pending, (first, last) in zip(todo, ranges, strict=True):
                response = pending.idempotency.response if pending.idempotency else None
                _settle(pending, Committed(first, last, response))
            todo = []
        if todo:
            raise RuntimeError("backend reported a collision that find_existing could not name")
        if deferred:
            # Same stream version or key as an earlier append of this batch: now that the
            # earlier one is settled, these resolve as a conflict or a replay.
            await self._commit(deferred)

    async def _answer_collisions(self, todo: list[PendingAppend]) -> list[PendingAppend]:
        versions, keys = await self._backend.find_existing(todo)
        remaining = []
        for pending in todo:
            scope = pending.idempotency_scope
            stored = keys.get(scope) if scope else None
            if stored is not None and pending.idempotency is not None:
                if stored.record.request_hash == pending.idempotency.request_hash:
                    _settle(
                        pending,
                        Committed(stored.first_position, stored.last_position, stored.record.response, replayed=True),
                    )
                else:
                    _settle(pending, IdempotencyKeyReused(*stored_scope(stored)))
                continue
            taken = next(((r.stream_id, r.version) for r in pending.rows if (r.stream_id, r.version) in versions), None)
            if taken is not None:
                _settle(pending, StreamConflict(*taken))
                continue
            remaining.append(pending)
        return remaining

    def _record(self, committed: list[PendingAppend], ranges: list[tuple[int, int]]) -> None:
        events = sum(len(p.rows) for p in committed)
        self.committed_position = max(self.committed_position, *(last for _, last in ranges))
        s = self.stats
        s.batches += 1
        s.appends += len(committed)
        s.events += events
        s.max_batch_events = max(s.max_batch_events, events)
        if len(s.batch_sizes) < self._keep_batch_sizes:
            s.batch_sizes.append(events)
        for observer in self.on_batch:
            observer(len(committed), events)


class BatchObserver(Protocol):
    def __call__(self, appends: int, events: int) -> None: ...


def _settle(pending: PendingAppend, outcome: Committed | Exception) -> None:
    """Answer the caller, unless it stopped waiting (cancelled)."""
    if pending.future.done():
        return
    if isinstance(outcome, Exception):
        pending.future.set_exception(outcome)
    else:
        pending.future.set_result(outcome)


def stored_scope(stored: StoredIdempotency) -> tuple[str, str]:
    return stored.record.client_id, stored.record.key


def _split_in_batch_duplicates(
    batch: list[PendingAppend],
) -> tuple[list[PendingAppend], list[PendingAppend]]:
    """Keep the first append per stream version and per idempotency key; defer the rest."""
    rows = [(r.stream_id, r.version) for p in batch for r in p.rows]
    scopes = [p.idempotency_scope for p in batch if p.idempotency is not None]
    if len(set(rows)) == len(rows) and len(set(scopes)) == len(scopes):
        return batch, []  # the common case: nothing to defer
    seen_rows: set[tuple[UUID, int]] = set()
    seen_keys: set[tuple[str, str]] = set()
    todo, deferred = [], []
    for pending in batch:
        row_keys = {(r.stream_id, r.version) for r in pending.rows}
        scope = pending.idempotency_scope
        if row_keys & seen_rows or (scope is not None and scope in seen_keys):
            deferred.append(pending)
            continue
        seen_rows |= row_keys
        if scope is not None:
            seen_keys.add(scope)
        todo.append(pending)
    return todo, deferred
