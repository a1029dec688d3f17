"""Following the global log into a projection, exactly once.

The runner reads a page of the log after the projection's tracking position, lets the
projection stage its row changes, and commits rows and the new position together. A
crash before the commit leaves both as they were; the page is simply handled again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from domain.ports import JSONValue, LogReader, Projection, ProjectionStore, TrackingConflict


class _BufferedView:
    """Reads through to the store, keeps writes until the batch commits."""

    def __init__(self, rows: ProjectionStore, projection: str) -> None:
        self._rows = rows
        self._projection = projection
        self.changes: dict[str, JSONValue | None] = {}

    async def get(self, key: str) -> JSONValue | None:
        if key in self.changes:
            return self.changes[key]
        found = await self._rows.get_rows(self._projection, [key])
        return found.get(key)

    def put(self, key: str, value: JSONValue) -> None:
        self.changes[key] = value

    def delete(self, key: str) -> None:
        self.changes[key] = None


@dataclass(frozen=True, slots=True)
class Progress:
    handled: int
    position: int


class ProjectionRunner:
    """Drives one projection; ``page_size`` bounds the events per transaction."""

    def __init__(
        self,
        log: LogReader,
        rows: ProjectionStore,
        projection: Projection,
        *,
        page_size: int = 1_000,
        idle_wait_s: float = 1.0,
    ) -> None:
        assert page_size > 0
        self._log = log
        self._rows = rows
        self._projection = projection
        self._page_size = page_size
        self._idle_wait_s = idle_wait_s

    async def run_once(self, until: int | None = None) -> Progress:
        """Handle at most one page of new events (none past ``until``); commit rows and
        position together."""
        name = self._projection.name
        start = await self._rows.tracking_position(name)
        limit = self._page_size if until is None else max(0, min(self._page_size, until - start))
        records = await self._log.read_log(start, limit) if limit else []
        if not records:
            return Progress(0, start)
        view = _BufferedView(self._rows, name)
        apply_at = getattr(self._projection, "apply_at", None)
        for record in records:
            if apply_at is not None:
                await apply_at(self._log.decode(record), view, record.position)
            else:
                await self._projection.apply(self._log.decode(record), view)
        end = records[-1].position
        await self._rows.commit_projection(name, start, end, view.changes)
        return Progress(len(records), end)

    async def catch_up(self, until: int | None = None) -> int:
        """Run pages until the log's head (or position ``until``) is reached; return the
        position reached."""
        while True:
            try:
                progress = await self.run_once(until)
            except TrackingConflict:
                continue  # another runner committed this page first: go on from where it got to
            if progress.handled == 0 or progress.handled < self._page_size or progress.position == until:
                return progress.position

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            position = await self.catch_up()
            await self._log.wait_for_append(position, self._idle_wait_s)
