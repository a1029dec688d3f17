"""The log as the projection runners of one process read it together.

The leader runs one runner per projection (nine), and each used to read every page of
the log and decode every event itself: after a meter batch of a thousand entries, 2,001
events read and decoded nine times over, most of the leader's time. A `SharedLog` keeps
the latest records it read and the events it decoded, so a page is read from the store
by the first runner that needs it and decoded once; the other runners get the same
records and the same event objects (events are immutable; `domain.services.rebuild`
shares them between projections the same way). Every runner still gets every event, in
order, as from the store itself: only the work is shared, not the choice of events.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from domain.ports import LogReader, LogRecord

DEFAULT_KEEP = 5_000  # records (and their events) kept: five pages of a runner (kept small: see ops.collector)


class SharedLog:
    """A `LogReader` over ``log`` that remembers the latest ``keep`` records and events."""

    def __init__(self, log: LogReader, keep: int = DEFAULT_KEEP) -> None:
        assert keep > 0
        self._log = log
        self._keep = keep
        self._records: dict[int, LogRecord] = {}  # by position, in the order read
        self._events: dict[int, DomainEventProtocol[UUID]] = {}
        self._reading = asyncio.Lock()  # one store read at a time: the others wait, then share it

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        found = self._kept(after_position, limit)
        if len(found) == limit:
            return found
        async with self._reading:
            found = self._kept(after_position, limit)  # a runner may have read them meanwhile
            if len(found) < limit:
                last = found[-1].position if found else after_position
                more = await self._log.read_log(last, limit - len(found))
                for record in more:
                    self._records[record.position] = record
                found += more
                self._forget(self._records)
        return found

    def decode(self, record: LogRecord) -> DomainEventProtocol[UUID]:
        event = self._events.get(record.position)
        if event is None:
            event = self._events[record.position] = self._log.decode(record)
            self._forget(self._events)
        return event

    async def wait_for_append(self, after_position: int, timeout_s: float) -> None:
        if after_position + 1 in self._records:
            return  # another runner has read past it already: no wait, no look at the head
        await self._log.wait_for_append(after_position, timeout_s)

    def _kept(self, after_position: int, limit: int) -> list[LogRecord]:
        """The kept records right after ``after_position``, as far as they run unbroken."""
        found: list[LogRecord] = []
        records = self._records
        position = after_position + 1
        while len(found) < limit and (record := records.get(position)) is not None:
            found.append(record)
            position += 1
        return found

    def _forget(self, kept: dict[int, Any]) -> None:
        """Drop the earliest read beyond ``keep`` (a runner that far behind reads the store)."""
        while len(kept) > self._keep:
            del kept[next(iter(kept))]
