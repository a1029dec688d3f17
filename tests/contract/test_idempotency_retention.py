"""Idempotency keys are kept for a window only: the pruning forgets the oldest first, a
bounded number at a time, and a forgotten key is a new request (docs/API.md, "Writes")."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from domain.ports import IdempotencyRecord
from tests.support.aggregates import Wallet


def key(n: int, request: bytes = b"h") -> IdempotencyRecord:
    return IdempotencyRecord("client-a", f"k{n}", request, f"answer {n}".encode())


async def record_keys(store: Any, count: int) -> None:
    """One append a key, one after the other: each key recorded at its own moment."""
    for n in range(count):
        await store.append(Wallet(f"w{n}").collect_events(), key(n))
        await asyncio.sleep(0.002)


def later_us(seconds: float) -> int:
    return time.time_ns() // 1000 + int(seconds * 1_000_000)


async def test_pruning_forgets_the_oldest_keys_first_and_at_most_the_limit(store: Any) -> None:
    await record_keys(store, 5)
    assert await store.prune_idempotency_keys(later_us(60), 2) == 2
    found = [await store.find_idempotency("client-a", f"k{n}") for n in range(5)]
    assert [f is not None for f in found] == [False, False, True, True, True]
    assert found[2] == key(2)
    assert await store.prune_idempotency_keys(later_us(60), 10) == 3
    assert await store.prune_idempotency_keys(later_us(60), 10) == 0


async def test_keys_within_the_window_are_kept(store: Any) -> None:
    await record_keys(store, 3)
    assert await store.prune_idempotency_keys(later_us(-60), 10) == 0  # all recorded after the cutoff
    assert all([await store.find_idempotency("client-a", f"k{n}") for n in range(3)])


async def test_a_forgotten_key_is_a_new_request(store: Any) -> None:
    first = await store.append(Wallet("first").collect_events(), key(1))
    again = await store.append(Wallet("retry").collect_events(), key(1))
    assert again.replayed
    assert (again.first_position, again.response) == (first.first_position, b"answer 1")
    assert await store.prune_idempotency_keys(later_us(60), 10) == 1
    new = await store.append(Wallet("after").collect_events(), key(1, request=b"another request"))
    assert not new.replayed
    assert new.first_position > first.first_position
    assert await store.find_idempotency("client-a", "k1") == key(1, request=b"another request")
