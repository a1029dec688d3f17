"""Ports: what the use cases need from the outside world, as `typing.Protocol`s.

The event store is the system of record. Its invariants, which every adapter must keep
(tests/contract proves them on each one):

- an event is identified by ``(stream_id, version)``; appending a version that already
  exists fails with `StreamConflict` and writes nothing of that append;
- every stored event gets a global ``position``: gapless, strictly increasing, in commit
  order, so a reader that saw position ``p`` has seen every position below it;
- an append is all-or-nothing, together with its idempotency record;
- an idempotency key is scoped per client: the same key with the same request hash
  replays the first result and writes nothing; with another hash it is refused
  (`IdempotencyKeyReused`);
- each row carries ``hash = SHA-256(prev_hash || canonical row bytes)``;
- an append returns only after the transaction holding it is durably committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

JSONValue = Any
"""A value that `json.dumps` accepts; projections store their rows as JSON."""


class EventStoreError(Exception):
    """Base of the typed failures an event store reports."""


class StreamConflict(EventStoreError):
    """Optimistic concurrency: another writer appended to the stream first."""

    def __init__(self, stream_id: UUID, version: int) -> None:
        super().__init__(f"stream {stream_id} already has version {version}")
        self.stream_id = stream_id
        self.version = version


class IdempotencyKeyReused(EventStoreError):
    """The client already used this Idempotency-Key for a different request."""

    def __init__(self, client_id: str, key: str) -> None:
        super().__init__(f"idempotency key {key!r} of client {client_id!r} was used for another request")
        self.client_id = client_id
        self.key = key


class TrackingConflict(EventStoreError):
    """Two runners of one projection raced; the loser's writes were not applied."""


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """What a client's retried request must get back, stored with the events it caused."""

    client_id: str
    key: str
    request_hash: bytes
    response: bytes


@dataclass(frozen=True, slots=True)
class Committed:
    """Outcome of an append. ``replayed`` means an earlier append with the same
    idempotency key was found and nothing was written now."""

    first_position: int
    last_position: int
    response: bytes | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One stored event as the global log holds it (encoded state, chain hash)."""

    position: int
    stream_id: UUID
    version: int
    topic: str
    state: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class ChainHead:
    position: int
    hash: bytes


class EventStore(Protocol):
    """The system of record (see the module docstring for the invariants)."""

    async def append(
        self,
        events: Sequence[DomainEventProtocol[UUID]],
        idempotency: IdempotencyRecord | None = None,
    ) -> Committed: ...

    async def load(self, stream_id: UUID, after_version: int = 0) -> list[DomainEventProtocol[UUID]]:
        """The stream's events with a version above ``after_version``, in order."""
        ...

    async def load_many(self, after_versions: Mapping[UUID, int]) -> dict[UUID, list[DomainEventProtocol[UUID]]]:
        """Many streams at once, each from its own version on (as `load`), in one round trip:
        every stream asked for is a key of the answer, in order, with its events."""
        ...

    async def find_idempotency(self, client_id: str, key: str) -> IdempotencyRecord | None: ...

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        """Up to ``limit`` records with a position above ``after_position``, in order."""
        ...

    def decode(self, record: LogRecord) -> DomainEventProtocol[UUID]: ...

    async def head(self) -> ChainHead: ...

    async def wait_for_append(self, after_position: int, timeout_s: float) -> None:
        """Return once the log may hold a position above ``after_position``, or on timeout."""
        ...


class LogReader(Protocol):
    """What a projection runner reads: the global log, decoded (an `EventStore` is one)."""

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]: ...

    def decode(self, record: LogRecord) -> DomainEventProtocol[UUID]: ...

    async def wait_for_append(self, after_position: int, timeout_s: float) -> None: ...


class ProjectionStore(Protocol):
    """Projection rows and their tracking position, always written together.

    A projection's rows and the log position they reflect are committed in one
    transaction; the commit names the position it started from, so of two racing
    runners only one can advance it (`TrackingConflict`). Hence exactly-once effects.
    """

    async def tracking_position(self, projection: str) -> int: ...

    async def get_rows(self, projection: str, keys: Sequence[str]) -> dict[str, JSONValue]: ...

    async def all_rows(self, projection: str) -> dict[str, JSONValue]:
        """Every row of the projection (for audits: replay and compare)."""
        ...

    async def commit_projection(
        self,
        projection: str,
        from_position: int,
        to_position: int,
        rows: Mapping[str, JSONValue | None],
    ) -> None:
        """Upsert ``rows`` (``None`` deletes) and move tracking from ``from_position``."""
        ...


class ProjectionView(Protocol):
    """A projection's rows as seen while it handles one batch of events.

    A row got from the view may be the very object the view holds (the live runner's
    view hands out what was put earlier in the same page, a rebuild's every row), not a
    copy: a projection may change a row it got only to put it back."""

    async def get(self, key: str) -> JSONValue | None: ...

    def put(self, key: str, value: JSONValue) -> None: ...

    def delete(self, key: str) -> None: ...


class Rows(Protocol):
    """A projection's rows while it folds a page: read, write and delete by key, without
    waiting. A rebuild's are a plain dict; the live runner's read through to the store
    (`domain.services.projections`). As with `ProjectionView`, a row got may be the object
    the rows hold: change it only to store it back."""

    def get(self, key: str, /) -> Any: ...

    def __setitem__(self, key: str, value: Any, /) -> None: ...

    def pop(self, key: str, default: Any, /) -> Any:
        """``pop(key, None)`` deletes the row; what it returns is the row only when the rows
        hold it already (the live runner's do not read a row to delete it)."""
        ...


class Projection(Protocol):
    """A read model built from the log, one event at a time. ``apply`` must be
    deterministic: replaying the log into empty rows reproduces the live rows exactly.

    A projection may say which event classes it reads in a ``handles`` tuple; a rebuild
    (`domain.services.rebuild`) then gives it only those (and decodes no event nobody
    reads), while the live runner gives it every event. A ``handles`` that missed a
    class ``apply`` reads would make `audit replay` report the rows as different.

    A projection whose rows name log positions defines ``apply_at(event, view, position)``
    as well; the runner and a rebuild then call that instead, with the event's position."""

    name: str

    async def apply(self, event: DomainEventProtocol[UUID], view: ProjectionView) -> None: ...


@runtime_checkable
class PageProjection(Protocol):
    """A read model that folds a page of events at once, in log order, into its `Rows`:
    one call a page, no coroutine per event or row (what makes `audit replay` fast). It is
    given only the events of the classes in ``handles`` (exactly those classes), by the
    live runner and by a rebuild alike; like ``apply``, ``fold`` is deterministic."""

    name: str
    handles: tuple[type[Any], ...]

    def fold(self, events: Sequence[Any], rows: Rows) -> None: ...


ReadModel = Projection | PageProjection


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "the log's head at ``position`` had ``hash``".

    Rows chain to each other, so whoever can rewrite rows can recompute every later
    hash; a checkpoint signed with a key the database never sees pins the history up
    to its position.
    """

    position: int
    hash: bytes
    key_id: str
    signed_at_us: int
    signature: bytes


class CheckpointStore(Protocol):
    async def save_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    async def checkpoints(self) -> list[Checkpoint]:
        """All checkpoints, in position order."""
        ...
