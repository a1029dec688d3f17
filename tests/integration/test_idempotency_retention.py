"""The leader's pruning of idempotency keys (`ops.idempotency_retention`) on a real store:
keys older than the window go, in bounded batches, until none is left; newer ones stay."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from adapters.eventstore.sqlite import SqliteEventStore
from domain.ports import IdempotencyRecord
from ops import idempotency_retention
from ops.idempotency_retention import US_PER_DAY, now_us, prune_once, run_idempotency_pruning
from tests.support.aggregates import Wallet


async def keyed_store(tmp_path: Path, keys: int) -> SqliteEventStore:
    store = await SqliteEventStore.open(f"sqlite:///{tmp_path}/events.db")
    for n in range(keys):
        await store.append(Wallet(f"w{n}").collect_events(), IdempotencyRecord("c", f"k{n}", b"h", b"r"))
    return store


def age_keys(tmp_path: Path, keys: list[str], days: float) -> None:
    """Make ``keys`` look recorded ``days`` ago (test data, written as a past day would have)."""
    with sqlite3.connect(tmp_path / "events.db") as conn:
        conn.executemany(
            "UPDATE idempotency_keys SET recorded_at_us = recorded_at_us - ? WHERE key = ?",
            [(int(days * US_PER_DAY), k) for k in keys],
        )


async def test_a_key_is_kept_for_the_window_and_forgotten_after_it(tmp_path: Path) -> None:
    store = await keyed_store(tmp_path, 3)
    try:
        assert await prune_once(store, 30, 100, clock_us=lambda: now_us() + 29 * US_PER_DAY) == 0
        assert await prune_once(store, 30, 2, clock_us=lambda: now_us() + 31 * US_PER_DAY) == 2  # bounded
        assert await prune_once(store, 30, 2, clock_us=lambda: now_us() + 31 * US_PER_DAY) == 1
    finally:
        await store.close()


async def test_the_running_pruning_drains_a_backlog_in_batches_and_keeps_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency_retention, "CATCH_UP_PAUSE_S", 0.01)
    store = await keyed_store(tmp_path, 12)
    old = [f"k{n}" for n in range(9)]
    age_keys(tmp_path, old, days=31)
    task = asyncio.create_task(run_idempotency_pruning(store, keep_days=30, batch=2))
    try:
        for _ in range(200):
            if all([await store.find_idempotency("c", k) is None for k in old]):
                break
            await asyncio.sleep(0.02)
        assert [await store.find_idempotency("c", k) is None for k in old] == [True] * 9
        assert all([await store.find_idempotency("c", f"k{n}") for n in range(9, 12)])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()
