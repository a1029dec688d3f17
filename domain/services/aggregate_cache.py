"""Aggregates kept between use cases, so that a long stream is not replayed every time.

A device's log gains an event with every batch; replaying it for each batch would cost
more with every batch. A cached aggregate is brought up to date by loading only the
events after its version, so it is never staler than a fresh load; optimistic
concurrency still decides every write. An aggregate is taken out while a use case works
on it and put back only after that use case's events are committed: one that failed,
or lost a race, is never seen again half-changed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

DEFAULT_MAX_AGGREGATES = 1_024


class AggregateCache:
    """At most ``max_aggregates`` aggregates of the given classes, least recently used out."""

    def __init__(self, classes: Iterable[type[Aggregate]], max_aggregates: int = DEFAULT_MAX_AGGREGATES) -> None:
        assert max_aggregates > 0
        self._classes = tuple(classes)
        self._max = max_aggregates
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()

    def caches(self, cls: type[Aggregate]) -> bool:
        return issubclass(cls, self._classes)

    def take(self, aggregate_id: UUID) -> Aggregate | None:
        return self._kept.pop(aggregate_id, None)

    def keep(self, aggregates: Iterable[Aggregate]) -> None:
        for aggregate in aggregates:
            if isinstance(aggregate, self._classes):
                self._kept[aggregate.id] = aggregate
                self._kept.move_to_end(aggregate.id)
        while len(self._kept) > self._max:
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
