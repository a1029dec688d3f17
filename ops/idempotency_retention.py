"""Background task: forget idempotency keys older than the retention window.

A key is kept for ``CITYSETTLE_IDEMPOTENCY_KEY_DAYS`` (default 30) after the request that
recorded it; the leader prunes older keys, the oldest first, at most
``CITYSETTLE_IDEMPOTENCY_PRUNE_BATCH`` keys in one statement (a bounded transaction that
never holds the table for long). While a run finds a full batch it goes on after
`CATCH_UP_PAUSE_S`, so a backlog (the first run on a store that kept every key) drains
at a bounded pace without falling behind the daily intake; otherwise it waits
`INTERVAL_S`. What a request with a forgotten key gets is in docs/API.md ("Writes").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

INTERVAL_S = 60.0  # between runs that found less than a full batch
CATCH_UP_PAUSE_S = 0.5  # between full batches: the writer and the readers keep their share
US_PER_DAY = 86_400 * 1_000_000


class IdempotencyKeys(Protocol):
    async def prune_idempotency_keys(self, recorded_before_us: int, limit: int) -> int: ...


def now_us() -> int:
    return time.time_ns() // 1_000


async def prune_once(store: IdempotencyKeys, keep_days: int, batch: int, clock_us: Callable[[], int] = now_us) -> int:
    """Forget at most ``batch`` keys recorded more than ``keep_days`` ago; how many."""
    assert keep_days > 0
    assert batch > 0
    return await store.prune_idempotency_keys(clock_us() - keep_days * US_PER_DAY, batch)


async def run_idempotency_pruning(store: IdempotencyKeys, keep_days: int, batch: int) -> None:
    """`prune_once` for ever (the leader's duty; cancelled when it stops leading)."""
    while True:
        pruned = 0
        try:
            pruned = await prune_once(store, keep_days, batch)
        except Exception:  # retried next interval; nothing depends on a key being gone
            log.exception("pruning idempotency keys failed")
        if pruned:
            log.info("forgot %d idempotency keys older than %d days", pruned, keep_days)
        await asyncio.sleep(CATCH_UP_PAUSE_S if pruned >= batch else INTERVAL_S)
