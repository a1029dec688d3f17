"""Following the global log into a projection, exactly once.

The runner reads a page of the log after the projection's tracking position, lets the
projection stage its row changes, and commits rows and the new position together. A
crash before the commit leaves both as they were; the page is simply handled again.

A `PageProjection` folds the page in one call, synchronously, into `Rows`; here its rows
read through to the store: the fold runs in a worker thread, and a row it asks for that
the page has not read yet is read on the event loop while the thread waits. A rebuild
(`domain.services.rebuild`) runs the very same ``fold`` into plain dicts.
"""

from __future__ import annotations

import abc
import asyncio
import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import TopicError, resolve_topic

from domain.ports import (
    JSONValue,
    LogReader,
    PageProjection,
    ProjectionStore,
    ProjectionView,
    ReadModel,
    TrackingConflict,
)

LOAD_TIMEOUT_S = 60.0  # a row read for a fold in its thread; the store's own timeouts come first


def folds_pages(projection: ReadModel) -> bool:
    """A `PageProjection` (it has ``fold`` and ``handles``), rather than a `Projection`."""
    return isinstance(projection, PageProjection)


def reads_topic(projection: ReadModel, topic: str) -> bool:
    """Whether ``projection`` is given the events of ``topic``: a `PageProjection` those of
    exactly the classes in its ``handles``; a `Projection` those whose class is (or derives
    from) one in its ``handles``, or every event when it has none. An event whose topic no
    longer resolves goes to everyone, so that decoding it says why."""
    handles = getattr(projection, "handles", None)
    if handles is None:
        return True
    try:
        event_class = resolve_topic(topic)
    except (TopicError, ImportError):
        return True
    if folds_pages(projection):
        return event_class in handles
    return issubclass(event_class, handles)


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


class _RowsThroughTheLoop:
    """`Rows` for a fold in a worker thread, over the page's `_BufferedView`: what the page
    wrote, else what it read (kept, so that a row got twice is the same object), else read
    from the store on the event loop."""

    def __init__(self, view: _BufferedView, loop: asyncio.AbstractEventLoop) -> None:
        self._view = view
        self._loop = loop
        self._read: dict[str, JSONValue | None] = {}

    def get(self, key: str, /) -> Any:
        changes = self._view.changes
        if key in changes:
            return changes[key]
        if key not in self._read:
            loading = asyncio.run_coroutine_threadsafe(self._view.get(key), self._loop)
            self._read[key] = loading.result(LOAD_TIMEOUT_S)
        return self._read[key]

    def __setitem__(self, key: str, value: Any, /) -> None:
        self._view.changes[key] = value

    def pop(self, key: str, default: Any, /) -> Any:
        changes = self._view.changes
        value = changes[key] if key in changes else self._read.get(key)  # not read for a delete
        changes[key] = None
        return value


class _Missing(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


_DELETED = object()


class _OneEventRows:
    """`Rows` for one event folded on its own (`FoldsPages.apply`): rows not read yet stop
    the fold (`_Missing`); changes are kept apart until the fold completes. Rows are
    handed out as copies, so a fold stopped part-way changed nothing it will see again."""

    def __init__(self, read: dict[str, Any]) -> None:
        self._read = read
        self.changes: dict[str, Any] = {}

    def get(self, key: str, /) -> Any:
        if key in self.changes:
            value = self.changes[key]
            return None if value is _DELETED else value
        if key not in self._read:
            raise _Missing(key)
        value = self.changes[key] = copy.deepcopy(self._read[key])
        return value

    def __setitem__(self, key: str, value: Any, /) -> None:
        self.changes[key] = value

    def pop(self, key: str, default: Any, /) -> Any:
        value = self.changes.get(key) if key in self.changes else self._read.get(key)  # not read for a delete
        self.changes[key] = _DELETED
        return None if value is _DELETED else value


class FoldsPages(abc.ABC):
    """``apply`` for a `PageProjection`: one event, folded on its own through an async
    `ProjectionView` (for callers that hold one: tests, and tools that feed events one by
    one). The runners call ``fold`` with whole pages."""

    name: str
    handles: tuple[type[Any], ...]

    @abc.abstractmethod
    def fold(self, events: Sequence[Any], rows: Any) -> None:
        """Fold a page of decoded events (of the classes in ``handles``) into ``rows``."""

    async def apply(self, event: Any, view: ProjectionView) -> None:
        if type(event) not in self.handles:
            return
        read: dict[str, Any] = {}
        while True:
            rows = _OneEventRows(read)
            try:
                self.fold([event], rows)
            except _Missing as missing:
                read[missing.key] = await view.get(missing.key)
                continue
            for key, value in rows.changes.items():
                if value is _DELETED:
                    view.delete(key)
                elif key not in read or value != read[key]:
                    view.put(key, value)
            return


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
        projection: ReadModel,
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
        self._reads: dict[str, bool] = {}  # by topic

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
        projection = self._projection
        if isinstance(projection, PageProjection):
            reads = self._reads
            events = []
            for record in records:
                wanted = reads.get(record.topic)
                if wanted is None:
                    wanted = reads[record.topic] = reads_topic(projection, record.topic)
                if wanted:
                    events.append(self._log.decode(record))
            if events:
                rows = _RowsThroughTheLoop(view, asyncio.get_running_loop())
                await asyncio.to_thread(projection.fold, events, rows)
        else:
            apply_at = getattr(projection, "apply_at", None)  # rows that name log positions
            for record in records:
                if apply_at is not None:
                    await apply_at(self._log.decode(record), view, record.position)
                else:
                    await projection.apply(self._log.decode(record), view)
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
