"""Background task: sign the chain head every interval when the log has grown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from adapters.eventstore.checkpoints import CheckpointSigner
from domain.ports import ChainHead, Checkpoint, CheckpointStore

log = logging.getLogger(__name__)


class HeadSource(CheckpointStore, Protocol):
    async def head(self) -> ChainHead: ...


def now_us() -> int:
    return time.time_ns() // 1_000


async def checkpoint_once(
    store: HeadSource, signer: CheckpointSigner, last_position: int, clock_us: Callable[[], int] = now_us
) -> Checkpoint | None:
    head = await store.head()
    if head.position <= last_position:
        return None
    checkpoint = signer.sign(head, clock_us())
    await store.save_checkpoint(checkpoint)
    return checkpoint


async def run_checkpoints(store: HeadSource, signer: CheckpointSigner, interval_s: float) -> None:
    existing = await store.checkpoints()
    last = existing[-1].position if existing else 0
    while True:
        try:
            checkpoint = await checkpoint_once(store, signer, last)
        except Exception:  # a failed checkpoint is retried next interval; the log is unaffected
            log.exception("writing a checkpoint failed")
        else:
            if checkpoint is not None:
                last = checkpoint.position
                log.info("checkpoint signed at position %d by %s", checkpoint.position, checkpoint.key_id)
        await asyncio.sleep(interval_s)
