"""Which process of a multi-worker service follows the log: a lock held for as long as
the holder lives, so that exactly one runs the projection runners and the checkpoint
signer, and another takes over when it dies.

- PostgreSQL: a session-level advisory lock on a dedicated connection. The server drops
  it when the holder's session ends (the process died, or the connection broke), so the
  next `try_acquire` of another worker succeeds. The key is derived from the store's
  database and schema: two stores on one server do not exclude each other.
- SQLite (one machine): an exclusive ``flock`` on a file beside the database, released by
  the kernel when the holder's process exits, however it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import asyncpg

from adapters.eventstore.postgres import split_store_url
from adapters.eventstore.postgres_schema import schema_identifier
from adapters.eventstore.sqlite import sqlite_path

CONNECT_TIMEOUT_S = 5.0
CHECK_TIMEOUT_S = 5.0


class LeaderLock(Protocol):
    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits for a holder."""
        ...

    async def held(self) -> bool:
        """Whether this process still holds it (a broken connection has lost it)."""
        ...

    async def release(self) -> None: ...


def leader_lock(store_url: str) -> LeaderLock:
    if store_url.startswith("sqlite://"):
        return FileLeaderLock(Path(sqlite_path(store_url) + ".leader.lock"))
    return PostgresLeaderLock(store_url)


def advisory_key(store_url: str) -> int:
    """A signed 64-bit key naming the store (database and schema), as pg_advisory_lock takes."""
    dsn, schema = split_store_url(store_url)
    parts = urlsplit(dsn)
    name = f"citysettle-leader:{parts.hostname}:{parts.port}:{parts.path}:{schema or 'public'}"
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLeaderLock:
    def __init__(self, store_url: str) -> None:
        dsn, schema = split_store_url(store_url)
        if schema is not None:
            schema_identifier(schema)  # the same check the store makes
        self._dsn = dsn
        self._key = advisory_key(store_url)
        self._conn: Any = None
        self._holding = False

    async def try_acquire(self) -> bool:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            self._holding = bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key))
        return self._holding

    async def held(self) -> bool:
        if not self._holding or self._conn is None or self._conn.is_closed():
            return False
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                # a session-level advisory lock lasts as long as the session: a round trip
                # proves the session is alive (the socket can look open after the server went)
                await self._conn.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        await self._drop()  # closing the session releases its advisory locks

    async def _drop(self) -> None:
        conn, self._conn, self._holding = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), CHECK_TIMEOUT_S)
            if not conn.is_closed():
                conn.terminate()


class FileLeaderLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    async def held(self) -> bool:
        return self._fd is not None  # a flock lasts as long as its file descriptor

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
