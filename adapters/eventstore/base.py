"""What both store adapters share: encoding, group commit, change notification."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError

from adapters.eventstore.codec import CodecOptions, build_mapper, decode_record, encode_events
from adapters.eventstore.group_commit import BatchBackend, GroupCommitter, StoreClosed
from domain.ports import ChainHead, Committed, EventStoreError, IdempotencyRecord, LogRecord

# how soon a waiter sees another process's commit (this process's wake it at once)
OTHER_WRITERS_POLL_S = 0.5


class StoreNotFound(EventStoreError):
    """Opened with ``create=False`` (read-only intent, e.g. an auditor's command) but there is
    no event store at the URL, or one whose schema is older than this code's."""


class EventsUndecodable(EventStoreError):
    """The stored events do not decode with this store's codec options: it was written
    with another cipher key, or with(out) compression."""


def require_schema(url: str, stored_version: int | None, migrations: Sequence[tuple[int, str]]) -> None:
    """Refuse a store without ``schema_migrations`` (None) or with an older schema."""
    latest = max((version for version, _ in migrations), default=0)
    if stored_version is None:
        raise StoreNotFound(f"no event store at {redacted_url(url)}: it has no schema_migrations table")
    if stored_version < latest:
        raise StoreNotFound(
            f"event store at {redacted_url(url)} is at schema version {stored_version}, this code needs {latest}:"
            " start the service on it once to migrate it"
        )


SECRET_PARAMETERS = frozenset({"password", "sslpassword"})  # libpq's, in any case


def redacted_url(url: str) -> str:
    """The URL for messages and logs: without its password (in the user info, or a
    ``password``/``sslpassword`` parameter); a URL that carries none is returned as given."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is None and not any(k.lower() in SECRET_PARAMETERS for k, _ in query):
        return url
    netloc = parts.netloc
    if parts.password is not None:
        user_info, _, host = netloc.rpartition("@")
        netloc = f"{user_info.split(':', 1)[0]}:***@{host}"
    hidden = [(k, "***" if k.lower() in SECRET_PARAMETERS else v) for k, v in query]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(hidden, safe="*")))


class BatchedEventStore(ABC):
    """Base of the adapters: turns domain events into rows and queues them for group commit."""

    # What this store raises when it cannot be reached now (the API answers 503 with
    # Retry-After for these, not 500): each adapter adds its driver's errors.
    unavailable_errors: ClassVar[tuple[type[BaseException], ...]] = (StoreClosed,)

    def __init__(
        self,
        backend: BatchBackend,
        codec: CodecOptions,
        *,
        max_batch_events: int,
        max_wait_ms: float,
        max_pending: int,
        adaptive_batches: bool = True,
    ) -> None:
        self.mapper: Mapper[UUID] = build_mapper(codec)
        self.committer = GroupCommitter(
            backend,
            max_batch_events=max_batch_events,
            max_wait_ms=max_wait_ms,
            max_pending=max_pending,
            adaptive=adaptive_batches,
        )
        self._appended = asyncio.Event()
        self._closed = False
        self.committer.on_batch.append(lambda _appends, events: self._wake_readers() if events else None)
        # told the domain events of each append this process committed (not replays): metrics
        self.on_committed: list[Callable[[Sequence[DomainEventProtocol[UUID]]], None]] = []

    async def append(
        self,
        events: Sequence[DomainEventProtocol[UUID]],
        idempotency: IdempotencyRecord | None = None,
    ) -> Committed:
        committed = await self.committer.submit(encode_events(self.mapper, events), idempotency)
        if not committed.replayed and events:
            for observer in self.on_committed:
                observer(events)
        return committed

    def decode(self, record: LogRecord) -> DomainEventProtocol[UUID]:
        return decode_record(self.mapper, record)

    def _wake_readers(self) -> None:
        self._appended.set()
        self._appended = asyncio.Event()

    async def wait_for_append(self, after_position: int, timeout_s: float) -> None:
        """Return once the log has grown past ``after_position``, or after ``timeout_s``.
        This process's commits wake the waiter at once, and say where the log got to
        without a read (a batch that adds no events wakes nobody); other processes'
        (the other workers of ``serve --workers N``) are seen by reading the head when
        waiting starts and every ``OTHER_WRITERS_POLL_S``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        read_head = True
        while True:
            appended = self._appended
            if self.committer.committed_position > after_position:
                return
            if read_head and (await self.head()).position > after_position:
                return
            remaining_s = deadline - loop.time()
            if remaining_s <= 0:
                return
            try:
                await asyncio.wait_for(appended.wait(), min(remaining_s, OTHER_WRITERS_POLL_S))
                read_head = False  # woken by this process's commit: committed_position tells
            except TimeoutError:
                if loop.time() >= deadline:
                    return
                read_head = True

    async def close(self) -> None:
        """Finish queued appends, then release connections. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self.committer.close()
        await self._release()

    async def check_codec(self) -> None:
        """Decode the first and the last event, so that a store opened with another cipher
        key or compression setting than it was written with is refused at once (one log
        uses one setting: the mapper decrypts and decompresses every row alike)."""
        head = await self.head()
        if head.position == 0:
            return
        for record in await self.read_log(0, 1) + await self.read_log(head.position - 1, 1):
            try:
                self.decode(record)
            except MapperDeserialisationError as exc:
                raise EventsUndecodable(f"the event at position {record.position} does not decode") from exc

    @abstractmethod
    async def _release(self) -> None: ...

    @abstractmethod
    async def head(self) -> ChainHead: ...

    @abstractmethod
    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]: ...
