"""Choosing the event store adapter from its URL: the only place that knows both."""

from __future__ import annotations

from adapters.eventstore.postgres import PostgresEventStore
from adapters.eventstore.sqlite import SqliteEventStore
from ops.config import Config, ConfigError

Store = SqliteEventStore | PostgresEventStore


async def open_store(config: Config, *, create: bool = True) -> Store:
    """Open the configured store. ``create=False`` is for commands that only read (auditors'):
    it never creates or migrates a store and raises `StoreNotFound` when there is none, or
    only an older one, at the URL."""
    url = config.store_url
    store_class: type[SqliteEventStore] | type[PostgresEventStore]
    if url.startswith("sqlite://"):
        store_class = SqliteEventStore
    elif url.startswith(("postgresql://", "postgres://")):
        store_class = PostgresEventStore
    else:
        scheme = url.split("://", 1)[0]
        raise ConfigError(f"unsupported store URL scheme {scheme!r}: use sqlite:/// or postgresql://")
    return await store_class.open(
        url,
        create=create,
        codec=config.codec,
        max_batch_events=config.batch_events_max,
        max_wait_ms=config.batch_wait_ms,
        max_pending=config.pending_appends_max,
    )
