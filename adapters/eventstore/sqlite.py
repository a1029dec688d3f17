"""Embedded SQLite event store (the single-machine default and the demo).

`sqlite3` is blocking, so each connection lives on its own thread: one writes (group
commits arrive there as one ``BEGIN IMMEDIATE`` transaction each), one reads. WAL mode
with ``synchronous=FULL``: an acknowledged append has been fsynced.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.eventstore.base import BatchedEventStore, StoreNotFound, redacted_url, require_schema
from adapters.eventstore.chain import extend_chain
from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.group_commit import DEFAULT_BATCH_EVENTS, PendingAppend, RowCollision, StoredIdempotency
from adapters.eventstore.sqlite_connection import ConnectionThread
from adapters.eventstore.sqlite_schema import MIGRATIONS, migrate, schema_version_of, stored_version
from domain.ports import (
    ChainHead,
    Checkpoint,
    IdempotencyRecord,
    JSONValue,
    LogRecord,
    TrackingConflict,
)

_LOG_COLUMNS = "position, stream_id, version, topic, state, hash"


def sqlite_path(url: str) -> str:
    """``sqlite:///relative/db`` or ``sqlite:////absolute/db`` or ``sqlite://:memory:``."""
    if not url.startswith("sqlite://"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    rest = url[len("sqlite://") :]
    if rest in (":memory:", "/:memory:"):
        raise ValueError("an in-memory SQLite store cannot be shared by its reader and writer; use a file")
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"expected sqlite:///path/to/db, got {url!r}")
    return rest[1:]


class SqliteEventStore(BatchedEventStore):
    """See the module docstring; open with `SqliteEventStore.open`."""

    # locked past the busy timeout, the disk full or failing, the file gone
    unavailable_errors = (*BatchedEventStore.unavailable_errors, sqlite3.OperationalError, OSError)

    def __init__(
        self, writer: ConnectionThread, reader: ConnectionThread, codec: CodecOptions, **batching: Any
    ) -> None:
        super().__init__(_Backend(writer), codec, **batching)
        self._writer = writer
        self._reader = reader

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        create: bool = True,
        codec: CodecOptions | None = None,
        max_batch_events: int = DEFAULT_BATCH_EVENTS,
        max_wait_ms: float = 0.0,
        max_pending: int = 10_000,
        adaptive_batches: bool = True,
        migrations: Sequence[tuple[int, str]] = MIGRATIONS,
    ) -> SqliteEventStore:
        """Open the store; with ``create`` (the default) create the file and migrate it,
        without it (read-only intent) raise `StoreNotFound` unless it exists and is current."""
        path = sqlite_path(url)
        _prepare_path(url, path, create)
        writer = ConnectionThread(path, "sqlite-writer", create=create)
        try:
            if create:
                await writer.run(lambda conn: migrate(conn, migrations))
            else:
                await _require_existing(writer, url, migrations)
        except BaseException:
            await writer.close()
            raise
        reader = ConnectionThread(path, "sqlite-reader", create=create)
        store = cls(
            writer,
            reader,
            codec or CodecOptions(),
            max_batch_events=max_batch_events,
            max_wait_ms=max_wait_ms,
            max_pending=max_pending,
            adaptive_batches=adaptive_batches,
        )
        store.committer.start()
        return store

    async def _release(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def schema_version(self) -> int:
        return await self._reader.run(schema_version_of)

    async def load(self, stream_id: UUID, after_version: int = 0) -> list[Any]:
        rows = await self._reader.run(
            lambda c: c.execute(
                f"SELECT {_LOG_COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version",
                (stream_id.bytes, after_version),
            ).fetchall()
        )
        return [self.decode(_log_record(r)) for r in rows]

    async def load_many(self, after_versions: Mapping[UUID, int]) -> dict[UUID, list[Any]]:
        wanted = list(after_versions.items())

        def read(c: Any) -> list[list[Any]]:  # one trip to the reader thread; SQLite reads are local
            query = f"SELECT {_LOG_COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version"
            return [c.execute(query, (stream_id.bytes, after)).fetchall() for stream_id, after in wanted]

        streams = await self._reader.run(read) if wanted else []
        return {
            stream_id: [self.decode(_log_record(r)) for r in rows]
            for (stream_id, _), rows in zip(wanted, streams, strict=True)
        }

    async def find_idempotency(self, client_id: str, key: str) -> IdempotencyRecord | None:
        row = await self._reader.run(
            lambda c: c.execute(
                "SELECT * FROM idempotency_keys WHERE client_id = ? AND key = ?", (client_id, key)
            ).fetchone()
        )
        return None if row is None else _stored_idempotency(row).record

    async def prune_idempotency_keys(self, recorded_before_us: int, limit: int) -> int:
        """Forget at most ``limit`` idempotency keys recorded before ``recorded_before_us``
        (microseconds since the epoch), the oldest first; how many were forgotten."""
        assert limit > 0

        def prune(c: sqlite3.Connection) -> int:
            c.execute("BEGIN IMMEDIATE")
            try:
                cursor = c.execute(
                    """DELETE FROM idempotency_keys WHERE rowid IN (
                           SELECT rowid FROM idempotency_keys WHERE recorded_at_us < ?
                           ORDER BY recorded_at_us LIMIT ?)""",
                    (recorded_before_us, limit),
                )
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")
            return int(cursor.rowcount)

        return await self._writer.run(prune)

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        rows = await self._reader.run(
            lambda c: c.execute(
                f"SELECT {_LOG_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (after_position, limit),
            ).fetchall()
        )
        return [_log_record(r) for r in rows]

    async def head(self) -> ChainHead:
        return await self._reader.run(_read_head)

    async def ping(self) -> None:
        await self._reader.run(lambda c: c.execute("SELECT 1").fetchone())

    # -- CheckpointStore -------------------------------------------------------------

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        def write(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT OR IGNORE INTO checkpoints VALUES (?, ?, ?, ?, ?)",
                (
                    checkpoint.position,
                    checkpoint.hash,
                    checkpoint.key_id,
                    checkpoint.signed_at_us,
                    checkpoint.signature,
                ),
            )

        await self._writer.run(write)

    async def checkpoints(self) -> list[Checkpoint]:
        rows = await self._reader.run(lambda c: c.execute("SELECT * FROM checkpoints ORDER BY position").fetchall())
        return [Checkpoint(r[0], bytes(r[1]), r[2], r[3], bytes(r[4])) for r in rows]

    # -- ProjectionStore --------------------------------------------------------------

    async def tracking_position(self, projection: str) -> int:
        row = await self._reader.run(
            lambda c: c.execute("SELECT position FROM tracking WHERE projection = ?", (projection,)).fetchone()
        )
        return 0 if row is None else int(row[0])

    async def get_rows(self, projection: str, keys: Sequence[str]) -> dict[str, JSONValue]:
        def query(c: sqlite3.Connection) -> list[Any]:
            out: list[Any] = []
            keys_list = list(keys)
            for i in range(0, len(keys_list), 500):  # SQLite bounds the number of parameters
                chunk = keys_list[i : i + 500]
                marks = ",".join("?" * len(chunk))
                out += c.execute(
                    f"SELECT key, value FROM projection_rows WHERE projection = ? AND key IN ({marks})",
                    (projection, *chunk),
                ).fetchall()
            return out

        return {k: json.loads(v) for k, v in await self._reader.run(query)}

    async def all_rows(self, projection: str) -> dict[str, JSONValue]:
        rows = await self._reader.run(
            lambda c: c.execute(
                "SELECT key, value FROM projection_rows WHERE projection = ? ORDER BY key", (projection,)
            ).fetchall()
        )
        return {k: json.loads(v) for k, v in rows}

    async def commit_projection(
        self,
        projection: str,
        from_position: int,
        to_position: int,
        rows: Mapping[str, JSONValue | None],
    ) -> None:
        upserts = [(projection, k, json.dumps(v)) for k, v in rows.items() if v is not None]
        deletes = [(projection, k) for k, v in rows.items() if v is None]

        def write(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute("INSERT OR IGNORE INTO tracking VALUES (?, 0)", (projection,))
                moved = c.execute(
                    "UPDATE tracking SET position = ? WHERE projection = ? AND position = ?",
                    (to_position, projection, from_position),
                ).rowcount
                if moved != 1:
                    raise TrackingConflict(f"projection {projection} is no longer at position {from_position}")
                c.executemany(
                    """INSERT INTO projection_rows (projection, key, value) VALUES (?, ?, ?)
                       ON CONFLICT (projection, key) DO UPDATE SET value = excluded.value""",
                    upserts,
                )
                c.executemany("DELETE FROM projection_rows WHERE projection = ? AND key = ?", deletes)
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

        await self._writer.run(write)


class _Backend:
    def __init__(self, writer: ConnectionThread) -> None:
        self._writer = writer

    async def commit_batch(self, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
        return await self._writer.run(lambda c: _commit_batch(c, batch))

    async def find_existing(
        self, batch: Sequence[PendingAppend]
    ) -> tuple[set[tuple[UUID, int]], dict[tuple[str, str], StoredIdempotency]]:
        def query(c: sqlite3.Connection) -> tuple[set[tuple[UUID, int]], dict[tuple[str, str], StoredIdempotency]]:
            versions = set()
            for p in batch:
                for r in p.rows:
                    found = c.execute(
                        "SELECT 1 FROM events WHERE stream_id = ? AND version = ?", (r.stream_id.bytes, r.version)
                    ).fetchone()
                    if found:
                        versions.add((r.stream_id, r.version))
            keys = {}
            for p in batch:
                if p.idempotency is None:
                    continue
                row = c.execute(
                    "SELECT * FROM idempotency_keys WHERE client_id = ? AND key = ?",
                    (p.idempotency.client_id, p.idempotency.key),
                ).fetchone()
                if row is not None:
                    keys[(row[0], row[1])] = _stored_idempotency(row)
            return versions, keys

        return await self._writer.run(query)


def _prepare_path(url: str, path: str, create: bool) -> None:
    if create:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    elif not Path(path).is_file():
        raise StoreNotFound(f"no event store at {redacted_url(url)}: {path} does not exist")


async def _require_existing(writer: ConnectionThread, url: str, migrations: Sequence[tuple[int, str]]) -> None:
    try:
        version = await writer.run(stored_version)
    except sqlite3.DatabaseError as exc:  # e.g. "file is not a database"
        raise StoreNotFound(f"no event store at {redacted_url(url)}: {exc}") from exc
    require_schema(url, version, migrations)


def _commit_batch(c: sqlite3.Connection, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
    c.execute("BEGIN IMMEDIATE")
    try:
        head = _read_head(c)
        planned, ranges, new_head = extend_chain(head, [p.rows for p in batch])
        c.executemany(
            "INSERT INTO events (position, stream_id, version, topic, state, hash) VALUES (?, ?, ?, ?, ?, ?)",
            [(p.position, p.row.stream_id.bytes, p.row.version, p.row.topic, p.row.state, p.hash) for p in planned],
        )
        keyed = [(p.idempotency, r) for p, r in zip(batch, ranges, strict=True) if p.idempotency is not None]
        if keyed:
            recorded_at_us = time.time_ns() // 1000
            c.executemany(
                """INSERT INTO idempotency_keys
                   (client_id, key, request_hash, response, first_position, last_position, recorded_at_us)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [(i.client_id, i.key, i.request_hash, i.response, *r, recorded_at_us) for i, r in keyed],
            )
        c.execute("UPDATE chain_head SET position = ?, hash = ? WHERE id = 1", (new_head.position, new_head.hash))
    except sqlite3.IntegrityError as exc:
        c.execute("ROLLBACK")
        raise RowCollision(str(exc)) from exc
    except BaseException:
        c.execute("ROLLBACK")
        raise
    c.execute("COMMIT")
    return ranges


def _read_head(c: sqlite3.Connection) -> ChainHead:
    position, digest = c.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
    return ChainHead(position, bytes(digest))


def _log_record(row: Any) -> LogRecord:
    return LogRecord(row[0], UUID(bytes=row[1]), row[2], row[3], bytes(row[4]), bytes(row[5]))


def _stored_idempotency(row: Any) -> StoredIdempotency:
    return StoredIdempotency(IdempotencyRecord(row[0], row[1], bytes(row[2]), bytes(row[3])), row[4], row[5])
