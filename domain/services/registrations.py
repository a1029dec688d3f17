"""Who was ever registered: the registration events of one kind, read off the whole log.

Registrations are rare and never deleted, so a listing follows the log reading only the
rows whose topic is that registration (decoding nothing else)."""

from __future__ import annotations

from typing import Any, TypeVar

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from domain.ports import EventStore

LOG_PAGE = 1_000
E = TypeVar("E", bound=DomainEventProtocol[Any])


async def registrations(store: EventStore, event_class: type[E]) -> list[E]:
    """Every ``event_class`` event in the log, in log order."""
    topic = get_topic(event_class)
    found: list[E] = []
    position = 0
    while True:
        page = await store.read_log(position, LOG_PAGE)
        if not page:
            return found
        for record in page:
            if record.topic == topic:
                event = store.decode(record)
                assert isinstance(event, event_class), record.topic
                found.append(event)
        position = page[-1].position
