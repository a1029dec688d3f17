"""The one worker that follows the log: it holds the store's leader lock and, while it
does, runs the projection runners and the checkpoint signer. Every other worker keeps
asking for the lock every ``retry_s`` and takes over within that when the holder dies.

A short overlap while a lock changes hands is harmless: a projection page commits only
from the position it read (`TrackingConflict` otherwise), and a second checkpoint of the
same head is one more valid signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from adapters.eventstore.leader_lock import LeaderLock

log = logging.getLogger(__name__)

Duties = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class Leadership:
    lock: LeaderLock
    duties: Duties  # runs until the event is set
    retry_s: float = 1.0
    on_change: Callable[[bool], None] = lambda leading: None
    leading: bool = field(default=False, init=False)

    async def run(self) -> None:
        """Until cancelled: wait for the lock, do the duties while it is held."""
        try:
            while True:
                if await self._acquire():
                    await self._lead()
                await asyncio.sleep(self.retry_s)
        finally:
            await self.lock.release()

    async def _acquire(self) -> bool:
        try:
            return await self.lock.try_acquire()
        except Exception as exc:  # the store is down: ask again later, keep answering reads
            log.warning("leader lock unavailable (%s: %s); retrying", type(exc).__name__, exc)
            return False

    async def _lead(self) -> None:
        log.info("this worker runs the projections and checkpoints")
        self._set(True)
        stop = asyncio.Event()
        duties = asyncio.create_task(self.duties(stop), name="leader-duties")
        try:
            while not duties.done() and await self.lock.held():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(duties), self.retry_s)
        finally:
            stop.set()
            duties.cancel()
            await asyncio.gather(duties, return_exceptions=True)
            self._set(False)
        if duties.done() and not duties.cancelled() and duties.exception() is not None:
            log.error("leader duties failed", exc_info=duties.exception())
        log.warning("leader lock lost or duties ended; handing over")
        await self.lock.release()

    def _set(self, leading: bool) -> None:
        self.leading = leading
        self.on_change(leading)
