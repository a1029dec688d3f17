"""Choosing the event store adapter from its URL: the only place that knows both."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from adapters.eventstore.base import EventsUndecodable, redacted_url
from adapters.eventstore.postgres import PostgresEventStore
from adapters.eventstore.sqlite import SqliteEventStore
from domain.services.unit_of_work import UseCase, execute
from ops.config import Config, ConfigError, check_store_url

T = TypeVar("T")

Store = SqliteEventStore | PostgresEventStore

# What an operator can fix by pointing at the right store or starting its server: every
# command reports these in one line instead of the driver's traceback.
_UNREACHABLE = (
    OSError,
    sqlite3.DatabaseError,  # also "file is not a database"
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)


class StoreUnreachable(ConfigError):
    """The store's server or file cannot be reached or refuses us (not a bug: say what to fix)."""


class StoreUndecodable(ConfigError):
    """The store's events do not decode with the configured cipher key or compression."""


def _why(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running there?)"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return "password refused"
    if isinstance(exc, asyncpg.PostgresError):
        return str(exc.args[0]) if exc.args else type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        said = exc.strerror[0].lower() + exc.strerror[1:]
        return f"{said}: {exc.filename}" if exc.filename else said
    return str(exc) or type(exc).__name__


async def open_store(config: Config, *, create: bool = True, decodes: bool = True) -> Store:
    """Open the configured store. ``create=False`` is for commands that only read (auditors'):
    it never creates or migrates a store and raises `StoreNotFound` when there is none, or
    only an older one, at the URL. ``decodes=False`` is for those that only read the rows'
    bytes (``audit verify``, ``export``: an auditor need not hold the cipher key); the others
    are refused at once (`StoreUndecodable`) when the events do not decode with the
    configured cipher key and compression."""
    url = config.store_url
    store_class: type[SqliteEventStore] | type[PostgresEventStore]
    check_store_url(url)
    store_class = SqliteEventStore if url.startswith("sqlite://") else PostgresEventStore
    try:
        store = await store_class.open(
            url,
            create=create,
            codec=config.codec,
            max_batch_events=config.batch_events_max,
            max_wait_ms=config.batch_wait_ms,
            max_pending=config.pending_appends_max,
            adaptive_batches=config.batch_adaptive,
        )
    except _UNREACHABLE as exc:
        raise StoreUnreachable(
            f"cannot open the event store at {redacted_url(url)}: {_why(exc)}; check --store or CITYSETTLE_STORE"
        ) from exc
    if decodes:
        try:
            await store.check_codec()
        except EventsUndecodable as exc:
            await store.close()
            raise StoreUndecodable(
                f"cannot decode the events of the store at {redacted_url(url)}: {_fix(config)}"
            ) from exc
    return store


def _fix(config: Config) -> str:
    if config.codec.cipher_key is None:
        return (
            "its events are encrypted or compressed: "
            "set CITYSETTLE_CIPHER_KEY and CITYSETTLE_COMPRESS as when it was written"
        )
    return (
        "they do not decode with this CITYSETTLE_CIPHER_KEY: give the key (and CITYSETTLE_COMPRESS) it was written with"
    )


async def with_store(config: Config, work: Callable[[Store], Awaitable[T]]) -> T:
    """``work`` on the configured store, opened for it and closed after (a command's run)."""
    store = await open_store(config)
    try:
        return await work(store)
    finally:
        await store.close()


async def run_use_case(config: Config, use_case: UseCase) -> dict[str, Any]:
    """One use case on the configured store; its result."""

    async def work(store: Store) -> dict[str, Any]:
        return (await execute(store, use_case)).result

    return await with_store(config, work)
