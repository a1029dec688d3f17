"""The PostgreSQL batch writer behind the group committer: it owns the writer connection.

A batch is written on one dedicated connection. When that connection breaks (network blip,
failover, the backend terminated) the batch in flight fails for its callers with the
connection error: it may or may not have committed, so it is never replayed behind their
back (a retry with the same idempotency key answers either way). The broken connection is
dropped; the next batch, or `ping`, opens a new one (one attempt,
bounded by the connect timeout), so the store heals by itself once the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from adapters.eventstore.group_commit import PendingAppend, RowCollision, StoreClosed, StoredIdempotency
from domain.ports import IdempotencyRecord

log = logging.getLogger(__name__)

# Errors after which the connection cannot be trusted (a connection that reports itself
# closed after any error is treated the same way).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    OSError,
    TimeoutError,
)

Connect = Callable[[], Awaitable[Any]]

# The whole append in one autocommit statement for any writer: the function (schema 4,
# see postgres_schema) locks the head, assigns positions and chains the hashes.
_APPEND = "SELECT citysettle_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"

_FIND_VERSIONS = """
SELECT e.stream_id, e.version FROM events e
JOIN unnest($1::uuid[], $2::bigint[]) AS t(stream_id, version)
  ON e.stream_id = t.stream_id AND e.version = t.version
"""

_FIND_KEYS = """
SELECT k.* FROM idempotency_keys k
JOIN unnest($1::text[], $2::text[]) AS t(client_id, key)
  ON k.client_id = t.client_id AND k.key = t.key
"""


class PostgresWriter:
    """See the module docstring. Every batch is ONE autocommit statement,
    `citysettle_append`, whichever writer moved the head last: PostgreSQL locks the head,
    positions and hashes the rows. One round trip, so the event loop prepares the next
    batch while PostgreSQL writes this one, also with several writer processes."""

    def __init__(self, connect: Connect, conn: Any | None = None) -> None:
        self._connect = connect
        self._conn = conn
        self._lock = asyncio.Lock()  # one operation at a time on the connection
        self._closed = False

    @property
    def connection(self) -> Any | None:
        """The current connection (None after it was dropped, until the next batch)."""
        return self._conn

    async def commit_batch(self, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
        async with self._connection() as conn:
            return await _append_in_server(conn, batch)

    async def find_existing(
        self, batch: Sequence[PendingAppend]
    ) -> tuple[set[tuple[UUID, int]], dict[tuple[str, str], StoredIdempotency]]:
        rows = [r for p in batch for r in p.rows]
        claims = [p.idempotency for p in batch if p.idempotency is not None]
        async with self._connection() as conn:
            found = await conn.fetch(_FIND_VERSIONS, [r.stream_id for r in rows], [r.version for r in rows])
            stored = await conn.fetch(_FIND_KEYS, [c.client_id for c in claims], [c.key for c in claims])
        versions = {(r["stream_id"], r["version"]) for r in found}
        keys = {(s["client_id"], s["key"]): stored_idempotency(s) for s in stored}
        return versions, keys

    async def ping(self) -> None:
        """The writer can write: its connection answers (reconnecting if it was dropped)."""
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    async def close(self) -> None:
        self._closed = True
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None and not conn.is_closed():
                await conn.close()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        async with self._lock:
            if self._closed:
                raise StoreClosed("event store is closed")
            if self._conn is None or self._conn.is_closed():
                self._drop()
                self._conn = await self._connect()  # one attempt, bounded by the connect timeout
                log.info("event store writer reconnected")
            conn = self._conn
            try:
                yield conn
            except BaseException as exc:
                # A connection error, or an operation cut short (cancelled): its state is unknown.
                if not isinstance(exc, Exception) or isinstance(exc, CONNECTION_ERRORS) or conn.is_closed():
                    log.warning("event store writer connection dropped (%r); the next batch reconnects", exc)
                    self._drop()
                raise

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


async def _append_in_server(conn: Any, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
    """One round trip whichever writer moved the head last: PostgreSQL positions and hashes
    the rows (`citysettle_append`); the ranges follow from the head it started from."""
    rows = [r for p in batch for r in p.rows]
    relative: list[tuple[int, int]] = []
    offset = 0
    for p in batch:
        n = len(p.rows)
        relative.append((offset + 1, offset + n) if n else (0, 0))
        offset += n
    keyed = [(p.idempotency, r) for p, r in zip(batch, relative, strict=True) if p.idempotency is not None]
    try:
        start = await conn.fetchval(
            _APPEND,
            [r.stream_id for r in rows],
            [r.version for r in rows],
            [r.topic for r in rows],
            [r.state for r in rows],
            [i.client_id for i, _ in keyed],
            [i.key for i, _ in keyed],
            [i.request_hash for i, _ in keyed],
            [i.response for i, _ in keyed],
            [r[0] for _, r in keyed],
            [r[1] for _, r in keyed],
        )
    except asyncpg.UniqueViolationError as exc:
        raise RowCollision(str(exc)) from exc
    return [(start + first, start + last) if first else (0, 0) for first, last in relative]


def stored_idempotency(row: Any) -> StoredIdempotency:
    record = IdempotencyRecord(row["client_id"], row["key"], bytes(row["request_hash"]), bytes(row["response"]))
    return StoredIdempotency(record, row["first_position"], row["last_position"])
