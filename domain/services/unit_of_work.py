"""Running a use case: load, decide, append atomically; retries and idempotency.

A use case is an async function of a `UnitOfWork` that loads aggregates, calls the
model, and returns a JSON-able result. `execute` appends every new event of every
aggregate it touched in one atomic write together with the client's idempotency
record, whose response is that result. A `StreamConflict` (someone else wrote first)
re-runs the use case on fresh state, a bounded number of times. A refusal (a
`DomainError`) of a keyed request looks for the key once more: a retry that raced its
original is answered with the original's result, not refused by what the original did. With an
`AggregateCache`, the aggregates of its classes are kept after a commit and brought up
to date on the next use — never replayed from their first event again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEventProtocol

from domain.model.errors import DomainError, NotFound
from domain.ports import EventStore, IdempotencyKeyReused, IdempotencyRecord, StreamConflict
from domain.services.aggregate_cache import AggregateCache

A = TypeVar("A", bound=Aggregate)
MAX_ATTEMPTS = 5


class TooMuchContention(DomainError):
    """The same aggregates kept changing under us; the client may retry later."""

    code = "contention"
    status = 409
    retry_after_s = 1


@dataclass(frozen=True, slots=True)
class RequestKey:
    """A client's Idempotency-Key and the hash of the request it came with."""

    client_id: str
    key: str
    request_hash: bytes

    @classmethod
    def of(cls, client_id: str, key: str, request: Any) -> RequestKey:
        body = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str).encode()
        return cls(client_id, key, hashlib.sha256(body).digest())


@dataclass(frozen=True, slots=True)
class Outcome:
    result: dict[str, Any]
    replayed: bool = False


class UnitOfWork:
    """Aggregates loaded or created during one attempt of a use case."""

    def __init__(self, store: EventStore, cache: AggregateCache | None = None) -> None:
        self._store = store
        self._cache = cache
        self._seen: dict[UUID, Aggregate] = {}
        self._absent: set[UUID] = set()  # prefetched and not stored: not asked again

    async def get(self, cls: type[A], aggregate_id: UUID) -> A:
        found = await self.find(cls, aggregate_id)
        if found is None:
            raise NotFound(f"{cls.__name__.lower()} {aggregate_id} not found")
        return found

    async def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id in self._seen:
            seen = self._seen[aggregate_id]
            assert isinstance(seen, cls), f"{aggregate_id} is a {type(seen).__name__}, not a {cls.__name__}"
            return seen
        if aggregate_id in self._absent:
            return None
        aggregate: Any = self._cache.take(aggregate_id) if self._cache and self._cache.caches(cls) else None
        for event in await self._store.load(aggregate_id, after_version=aggregate.version if aggregate else 0):
            aggregate = cast(Any, event).mutate(aggregate)
        if aggregate is None:
            return None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{cls.__name__.lower()} {aggregate_id} not found")
        self._seen[aggregate_id] = aggregate
        return aggregate

    async def prefetch(self, cls: type[Aggregate], aggregate_ids: Iterable[UUID]) -> None:
        """Load many aggregates in one round trip (`EventStore.load_many`), each from where
        its cached copy is; later `find` and `get` calls for them ask the store nothing."""
        wanted = {i for i in aggregate_ids if i not in self._seen and i not in self._absent}
        if not wanted:
            return
        cached: dict[UUID, Any] = {}
        if self._cache is not None and self._cache.caches(cls):
            cached = {i: a for i in wanted if (a := self._cache.take(i)) is not None}
        streams = await self._store.load_many({i: cached[i].version if i in cached else 0 for i in wanted})
        for aggregate_id, events in streams.items():
            aggregate: Any = cached.get(aggregate_id)
            for event in events:
                aggregate = cast(Any, event).mutate(aggregate)
            if isinstance(aggregate, cls):  # another class's stream: `find` refuses it as before
                self._seen[aggregate_id] = aggregate
        # Only what was prefetched is taken as absent: a use case that looks again for a
        # stream it did not find (another writer may have created it since) still can.
        self._absent.update(i for i, events in streams.items() if not events and i not in cached)

    def add(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self._seen[aggregate.id] = aggregate
            self._absent.discard(aggregate.id)

    def aggregates(self) -> list[Aggregate]:
        return list(self._seen.values())

    def new_events(self) -> list[DomainEventProtocol[UUID]]:
        events: list[DomainEventProtocol[UUID]] = []
        for aggregate in self._seen.values():
            events.extend(aggregate.collect_events())
        return events


UseCase = Callable[[UnitOfWork], Awaitable[dict[str, Any]]]


async def execute(
    store: EventStore,
    use_case: UseCase,
    request_key: RequestKey | None = None,
    cache: AggregateCache | None = None,
) -> Outcome:
    if request_key is not None:
        earlier = await store.find_idempotency(request_key.client_id, request_key.key)
        if earlier is not None:
            return _replay(earlier, request_key)
    for _ in range(MAX_ATTEMPTS):
        uow = UnitOfWork(store, cache)
        try:
            result = await use_case(uow)
        except DomainError:
            # Refused by the state it found: maybe the state its own original left, which
            # committed since we looked for the key (a retry racing it, in another
            # process): then the answer is the original's.
            if request_key is not None:
                earlier = await store.find_idempotency(request_key.client_id, request_key.key)
                if earlier is not None:
                    return _replay(earlier, request_key)
            raise
        record = None
        if request_key is not None:
            response = json.dumps(result, sort_keys=True, separators=(",", ":")).encode()
            record = IdempotencyRecord(request_key.client_id, request_key.key, request_key.request_hash, response)
        events = uow.new_events()
        if not events and record is None:  # nothing to write (a read, a redelivered batch)
            return Outcome(result)
        try:
            committed = await store.append(events, record)
        except StreamConflict:
            continue
        if committed.replayed and committed.response is not None:
            return Outcome(json.loads(committed.response), replayed=True)
        if cache is not None:
            cache.keep(uow.aggregates())
        return Outcome(result)
    raise TooMuchContention(f"gave up after {MAX_ATTEMPTS} concurrent modifications; retry later")


def _replay(earlier: IdempotencyRecord, request_key: RequestKey) -> Outcome:
    if earlier.request_hash != request_key.request_hash:
        raise IdempotencyKeyReused(request_key.client_id, request_key.key)
    return Outcome(json.loads(earlier.response), replayed=True)
