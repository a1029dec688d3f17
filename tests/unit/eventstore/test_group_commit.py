"""The group committer against a hand-written fake backend (no database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest

from adapters.eventstore.codec import EncodedEvent
from adapters.eventstore.group_commit import (
    GroupCommitter,
    PendingAppend,
    RowCollision,
    StoreClosed,
    StoredIdempotency,
)
from domain.ports import IdempotencyKeyReused, IdempotencyRecord, StreamConflict


class FakeBackend:
    """Keeps rows in memory; fails a batch the way a unique index would."""

    def __init__(self) -> None:
        self.rows: set[tuple[UUID, int]] = set()
        self.keys: dict[tuple[str, str], StoredIdempotency] = {}
        self.position = 0
        self.batches: list[int] = []
        self.fail_next: Exception | None = None
        self.commit_delay_s = 0.0

    async def commit_batch(self, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
        await asyncio.sleep(self.commit_delay_s)
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        for p in batch:
            if any((r.stream_id, r.version) in self.rows for r in p.rows) or (
                p.idempotency_scope is not None and p.idempotency_scope in self.keys
            ):
                raise RowCollision("duplicate")
        ranges = []
        for p in batch:
            first = self.position + 1
            self.position += len(p.rows)
            self.rows |= {(r.stream_id, r.version) for r in p.rows}
            rng = (first, self.position) if p.rows else (0, 0)
            if p.idempotency is not None and p.idempotency_scope is not None:
                self.keys[p.idempotency_scope] = StoredIdempotency(p.idempotency, *rng)
            ranges.append(rng)
        self.batches.append(sum(len(p.rows) for p in batch))
        return ranges

    async def find_existing(
        self, batch: Sequence[PendingAppend]
    ) -> tuple[set[tuple[UUID, int]], dict[tuple[str, str], StoredIdempotency]]:
        return set(self.rows), dict(self.keys)


def rows(n: int, stream: UUID | None = None, start: int = 1) -> list[EncodedEvent]:
    stream = stream or uuid4()
    return [EncodedEvent(stream, start + i, "t", b"{}") for i in range(n)]


async def make(backend: FakeBackend, **options: float) -> GroupCommitter:
    committer = GroupCommitter(backend, **options)  # type: ignore[arg-type]
    committer.start()
    return committer


async def test_appends_that_arrive_together_share_a_batch() -> None:
    backend = FakeBackend()
    committer = await make(backend)
    await asyncio.gather(*(committer.submit(rows(1), None) for _ in range(50)))
    assert backend.batches == [50]
    await committer.close()


async def test_an_append_is_never_split_and_opens_the_next_batch() -> None:
    backend = FakeBackend()
    committer = await make(backend, max_batch_events=10)
    sizes = [4, 4, 4, 25, 1]
    results = await asyncio.gather(*(committer.submit(rows(n), None) for n in sizes))
    assert backend.batches == [8, 4, 25, 1]
    assert [(r.first_position, r.last_position) for r in results] == [(1, 4), (5, 8), (9, 12), (13, 37), (38, 38)]
    await committer.close()


async def test_a_failed_transaction_fails_every_caller_of_that_batch_only() -> None:
    backend = FakeBackend()
    committer = await make(backend)
    backend.fail_next = ConnectionError("database went away")
    first = await asyncio.gather(*(committer.submit(rows(1), None) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in first)
    after = await committer.submit(rows(1), None)
    assert after.first_position == 1
    await committer.close()


async def test_collisions_are_answered_individually() -> None:
    backend = FakeBackend()
    committer = await make(backend)
    stream = uuid4()
    await committer.submit(rows(1, stream), IdempotencyRecord("c", "k", b"h1", b"r1"))
    outcomes = await asyncio.gather(
        committer.submit(rows(1, stream), None),
        committer.submit(rows(1), IdempotencyRecord("c", "k", b"h1", b"ignored")),
        committer.submit(rows(1), IdempotencyRecord("c", "k", b"h2", b"x")),
        committer.submit(rows(2), None),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], StreamConflict)
    assert outcomes[1].replayed  # type: ignore[union-attr]
    assert outcomes[1].response == b"r1"  # type: ignore[union-attr]
    assert isinstance(outcomes[2], IdempotencyKeyReused)
    assert outcomes[3].first_position == 2  # type: ignore[union-attr]
    await committer.close()


async def test_close_finishes_queued_appends_then_refuses_new_ones() -> None:
    backend = FakeBackend()
    backend.commit_delay_s = 0.01
    committer = await make(backend, max_batch_events=1)
    pending = [asyncio.create_task(committer.submit(rows(1), None)) for _ in range(5)]
    await asyncio.sleep(0)
    await committer.close()
    assert all(t.done() and not t.exception() for t in pending)
    with pytest.raises(StoreClosed):
        await committer.submit(rows(1), None)


async def test_queue_is_bounded_and_applies_backpressure() -> None:
    backend = FakeBackend()
    backend.commit_delay_s = 0.05
    committer = await make(backend, max_pending=2, max_batch_events=1)
    tasks = [asyncio.create_task(committer.submit(rows(1), None)) for _ in range(6)]
    await asyncio.sleep(0.01)
    assert len(committer._pending) <= 2
    await asyncio.gather(*tasks)
    await committer.close()


async def closed_loop_batches(
    backend: FakeBackend, appenders: int, rounds: int, cpu_s_per_append: float, **options: object
) -> list[int]:
    """``appenders`` callers append one event after the other ``rounds`` times, each
    spending ``cpu_s_per_append`` of CPU before its append; the batches of the last
    quarter of the run."""
    committer = await make(backend, **options)  # type: ignore[arg-type]

    async def caller() -> None:
        for _ in range(rounds):
            spin_until = time.thread_time() + cpu_s_per_append
            while time.thread_time() < spin_until:
                pass
            await committer.submit(rows(1), None)

    await asyncio.gather(*(caller() for _ in range(appenders)))
    await committer.close()
    assert sum(backend.batches) == appenders * rounds  # nothing lost, nothing twice
    return backend.batches[-len(backend.batches) // 4 :]


async def test_appenders_that_start_together_end_up_in_two_alternating_halves() -> None:
    backend = FakeBackend()
    backend.commit_delay_s = 0.003
    batches = await closed_loop_batches(backend, appenders=40, rounds=20, cpu_s_per_append=0.0001)
    assert batches[0] == 40 or backend.batches[0] == 40  # all 40 arrived together: a cold writer takes them
    assert set(batches) == {20}, batches  # then one half commits while the other is prepared


async def test_batches_grow_with_the_appenders() -> None:
    backend = FakeBackend()
    backend.commit_delay_s = 0.003
    batches = await closed_loop_batches(backend, appenders=600, rounds=6, cpu_s_per_append=0.0)
    assert set(batches) == {300}, batches  # a fixed cap of 128 would have made 5 batches of them


async def test_without_adaptive_sizing_a_batch_takes_all_that_is_queued() -> None:
    backend = FakeBackend()
    backend.commit_delay_s = 0.001
    batches = await closed_loop_batches(backend, appenders=40, rounds=20, cpu_s_per_append=0.0003, adaptive=False)
    assert min(batches) == 40, batches  # in lockstep: the behaviour the sizing replaces


async def test_the_hard_bound_holds() -> None:
    backend = FakeBackend()
    backend.commit_delay_s = 0.005
    batches = await closed_loop_batches(backend, appenders=40, rounds=20, cpu_s_per_append=0.00001, max_batch_events=16)
    assert max(batches) <= 16, batches
