"""Rebuilding projections from the log: one read, one decode, every projection.

Reading a row and decoding its event cost more than folding the event into a
projection, so a rebuild reads the log once, page by page, decodes each event once and
applies it to every projection that reads it, each into its own rows in memory. Nothing
is written anywhere: `audit replay` compares these rows with the live ones.

An event goes only to the projections whose ``handles`` names its class, and an event
no projection reads is not decoded at all. A `PageProjection` is given each page's events
at once (one ``fold`` call a page, into a plain dict: no coroutine per event or row); a
`Projection` each event through ``apply``. Either is the very code the live runners
(`domain.services.projections`) run, so a rebuild proves the live rows rather than a
second implementation of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from domain.ports import EventStore, JSONValue, LogRecord, PageProjection, Projection, ReadModel
from domain.services.projections import reads_topic

PAGE_SIZE = 5_000


class RowsInMemory:
    """A projection's rows as a plain dict: the `ProjectionView` of a rebuild.

    Rows are handed out as they are, not copied: a projection changes a row it got only
    to put it back (`ProjectionView`), which is what the live runner's view relies on
    within a page too, so a copy would only cost time (it was most of a replay's)."""

    def __init__(self) -> None:
        self.rows: dict[str, JSONValue] = {}

    async def get(self, key: str) -> JSONValue | None:
        return self.rows.get(key)

    def put(self, key: str, value: JSONValue) -> None:
        self.rows[key] = value

    def delete(self, key: str) -> None:
        self.rows.pop(key, None)


class Rebuild:
    """Every projection in ``projections`` folded from one pass over ``log``, from the
    start. `fold_until` moves the pass on; between calls, `rows` are the rows each
    projection would have at `position`. ``on_page`` is told how many events each page
    held (for a progress bar)."""

    def __init__(
        self,
        log: EventStore,
        projections: Sequence[ReadModel],
        *,
        page_size: int = PAGE_SIZE,
        on_page: Callable[[int], object] | None = None,
    ) -> None:
        assert page_size > 0
        assert len({p.name for p in projections}) == len(projections), "projection names are unique"
        self._log = log
        self._views = {p.name: RowsInMemory() for p in projections}
        self._projections = list(projections)
        # each page projection with its events of the page being folded, in log order
        self._pages: dict[str, tuple[PageProjection, list[Any]]] = {
            p.name: (p, []) for p in projections if isinstance(p, PageProjection)
        }
        self._page_size = page_size
        self._on_page = on_page
        # by topic: where its events go (the page lists' appends) and who applies them one by one
        self._readers: dict[str, tuple[tuple[Callable[[Any], None], ...], tuple[Projection, ...]]] = {}
        self.position = 0  # the last event applied
        self.events = 0  # how many were applied

    def _readers_of(self, topic: str) -> tuple[tuple[Callable[[Any], None], ...], tuple[Projection, ...]]:
        readers = [p for p in self._projections if reads_topic(p, topic)]
        return (
            tuple(self._pages[p.name][1].append for p in readers if p.name in self._pages),
            tuple(p for p in readers if not isinstance(p, PageProjection)),
        )

    def rows(self, projection: str) -> dict[str, JSONValue]:
        """The projection's rows as rebuilt so far (live: they change as the pass goes on)."""
        return self._views[projection].rows

    async def fold_until(self, position: int) -> None:
        """Apply every event after `position` up to ``position`` (or the log's end)."""
        # The next page is read while this one is folded: the store reads in its own
        # thread (SQLite) or from its socket (PostgreSQL), so the two overlap.
        pending = self._read(self.position, position)
        try:
            while pending is not None:
                records = await pending
                pending = None
                if not records:
                    return
                if records[-1].position < position:
                    pending = self._read(records[-1].position, position)
                await self._apply(records, position)
        finally:
            if pending is not None:
                pending.cancel()

    def _read(self, after: int, until: int) -> asyncio.Future[list[LogRecord]] | None:
        limit = min(self._page_size, until - after)
        return asyncio.ensure_future(self._log.read_log(after, limit)) if limit > 0 else None

    async def _apply(self, records: list[LogRecord], until: int) -> None:
        decode = self._log.decode
        readers = self._readers
        views = self._views
        applied = 0
        for record in records:
            if record.position > until:  # positions are dense, so only a gap could overshoot
                break
            found = readers.get(record.topic)
            if found is None:
                found = readers[record.topic] = self._readers_of(record.topic)
            pages, one_by_one = found
            if pages or one_by_one:
                event = decode(record)
                for append in pages:
                    append(event)
                for projection in one_by_one:
                    if (apply_at := getattr(projection, "apply_at", None)) is not None:
                        await apply_at(event, views[projection.name], record.position)
                    else:
                        await projection.apply(event, views[projection.name])
            applied += 1
        if applied:
            self.position = records[applied - 1].position
        for name, (page_projection, events) in self._pages.items():
            if events:
                page_projection.fold(events, views[name].rows)
                events.clear()
        self.events += applied
        if self._on_page is not None and applied:
            self._on_page(applied)
