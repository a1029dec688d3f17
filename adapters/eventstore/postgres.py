"""PostgreSQL event store through asyncpg (production).

One dedicated connection writes; a small pool reads. A batch is one transaction of four
round trips: BEGIN, lock the chain head, one statement inserting every row and
idempotency record and moving the head, COMMIT. The head row lock serialises writers
(also across processes), which is what makes positions gapless and visible in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import asyncpg

from adapters.eventstore.base import BatchedEventStore
from adapters.eventstore.chain import PlannedRow, extend_chain
from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.group_commit import DEFAULT_BATCH_EVENTS, PendingAppend, RowCollision, StoredIdempotency
from adapters.eventstore.postgres_schema import MIGRATIONS, migrate
from domain.ports import (
    ChainHead,
    Checkpoint,
    IdempotencyRecord,
    JSONValue,
    LogRecord,
    TrackingConflict,
)

_WRITE_BATCH = """
WITH ev AS (
    INSERT INTO events (position, stream_id, version, topic, state, hash)
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::bytea[], $6::bytea[])
), idem AS (
    INSERT INTO idempotency_keys (client_id, key, request_hash, response, first_position, last_position)
    SELECT * FROM unnest($7::text[], $8::text[], $9::bytea[], $10::bytea[], $11::bigint[], $12::bigint[])
)
UPDATE chain_head SET position = $13, hash = $14 WHERE id = 1
"""

# The same write as _WRITE_BATCH, in one autocommit statement, applied only if the head is
# still at ($15, $16): the UPDATE waits for a concurrent writer's lock and then matches
# nothing, so neither INSERT writes a row and the caller takes the locked path.
_WRITE_BATCH_IF_HEAD = """
WITH head AS (
    UPDATE chain_head SET position = $13, hash = $14
    WHERE id = 1 AND position = $15 AND hash = $16
    RETURNING 1
), ev AS (
    INSERT INTO events (position, stream_id, version, topic, state, hash)
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::bytea[], $6::bytea[])
    WHERE EXISTS (SELECT FROM head)
), idem AS (
    INSERT INTO idempotency_keys (client_id, key, request_hash, response, first_position, last_position)
    SELECT * FROM unnest($7::text[], $8::text[], $9::bytea[], $10::bytea[], $11::bigint[], $12::bigint[])
    WHERE EXISTS (SELECT FROM head)
)
SELECT count(*) FROM head
"""

_LOCKED_BATCHES_AFTER_MISS = 16

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

_LOG_COLUMNS = "position, stream_id, version, topic, state, hash"


def split_store_url(url: str) -> tuple[str, str | None]:
    """Remove our ``schema`` query parameter from a ``postgresql://`` URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresEventStore(BatchedEventStore):
    """See the module docstring; open with `PostgresEventStore.open`."""

    def __init__(self, writer: Any, pool: Any, codec: CodecOptions, **batching: Any) -> None:
        super().__init__(_Backend(writer), codec, **batching)
        self._writer = writer
        self._pool = pool

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        codec: CodecOptions | None = None,
        max_batch_events: int = DEFAULT_BATCH_EVENTS,
        max_wait_ms: float = 0.0,
        max_pending: int = 10_000,
        read_pool_size: int = 4,
        connect_timeout_s: float = 10.0,
        migrations: Sequence[tuple[int, str]] = MIGRATIONS,
    ) -> PostgresEventStore:
        dsn, schema = split_store_url(url)
        settings = {"search_path": schema} if schema else {}
        if schema:
            admin = await asyncpg.connect(dsn, timeout=connect_timeout_s)
            try:
                await admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{_identifier(schema)}"')
            finally:
                await admin.close()
        writer = await asyncpg.connect(dsn, server_settings=settings, timeout=connect_timeout_s)
        try:
            await migrate(writer, migrations)
            pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=read_pool_size, server_settings=settings, timeout=connect_timeout_s
            )
        except BaseException:
            await writer.close()
            raise
        store = cls(
            writer,
            pool,
            codec or CodecOptions(),
            max_batch_events=max_batch_events,
            max_wait_ms=max_wait_ms,
            max_pending=max_pending,
        )
        store.committer.start()
        return store

    async def _release(self) -> None:
        await self._pool.close()
        await self._writer.close()

    async def schema_version(self) -> int:
        return int(await self._pool.fetchval("SELECT max(version) FROM schema_migrations"))

    async def load(self, stream_id: UUID, after_version: int = 0) -> list[Any]:
        rows = await self._pool.fetch(
            f"SELECT {_LOG_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version",
            stream_id,
            after_version,
        )
        return [self.decode(_log_record(r)) for r in rows]

    async def find_idempotency(self, client_id: str, key: str) -> IdempotencyRecord | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM idempotency_keys WHERE client_id = $1 AND key = $2", client_id, key
        )
        return None if row is None else _stored_idempotency(row).record

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        rows = await self._pool.fetch(
            f"SELECT {_LOG_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            after_position,
            limit,
        )
        return [_log_record(r) for r in rows]

    async def head(self) -> ChainHead:
        row = await self._pool.fetchrow("SELECT position, hash FROM chain_head WHERE id = 1")
        return ChainHead(row["position"], bytes(row["hash"]))

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")

    # -- CheckpointStore -------------------------------------------------------------

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self._pool.execute(
            "INSERT INTO checkpoints VALUES ($1, $2, $3, $4, $5) ON CONFLICT (position) DO NOTHING",
            checkpoint.position,
            checkpoint.hash,
            checkpoint.key_id,
            checkpoint.signed_at_us,
            checkpoint.signature,
        )

    async def checkpoints(self) -> list[Checkpoint]:
        rows = await self._pool.fetch("SELECT * FROM checkpoints ORDER BY position")
        return [
            Checkpoint(r["position"], bytes(r["hash"]), r["key_id"], r["signed_at_us"], bytes(r["signature"]))
            for r in rows
        ]

    # -- ProjectionStore --------------------------------------------------------------

    async def tracking_position(self, projection: str) -> int:
        value = await self._pool.fetchval("SELECT position FROM tracking WHERE projection = $1", projection)
        return int(value or 0)

    async def get_rows(self, projection: str, keys: Sequence[str]) -> dict[str, JSONValue]:
        rows = await self._pool.fetch(
            "SELECT key, value::text FROM projection_rows WHERE projection = $1 AND key = ANY($2::text[])",
            projection,
            list(keys),
        )
        return {r["key"]: json.loads(r["value"]) for r in rows}

    async def all_rows(self, projection: str) -> dict[str, JSONValue]:
        rows = await self._pool.fetch(
            "SELECT key, value::text FROM projection_rows WHERE projection = $1 ORDER BY key", projection
        )
        return {r["key"]: json.loads(r["value"]) for r in rows}

    async def commit_projection(
        self,
        projection: str,
        from_position: int,
        to_position: int,
        rows: Mapping[str, JSONValue | None],
    ) -> None:
        upserts = {k: json.dumps(v) for k, v in rows.items() if v is not None}
        deletes = [k for k, v in rows.items() if v is None]
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO tracking VALUES ($1, 0) ON CONFLICT (projection) DO NOTHING", projection)
            moved = await conn.execute(
                "UPDATE tracking SET position = $3 WHERE projection = $1 AND position = $2",
                projection,
                from_position,
                to_position,
            )
            if moved != "UPDATE 1":
                raise TrackingConflict(f"projection {projection} is no longer at position {from_position}")
            if upserts:
                await conn.execute(
                    """INSERT INTO projection_rows (projection, key, value)
                       SELECT $1, k, v::jsonb FROM unnest($2::text[], $3::text[]) AS t(k, v)
                       ON CONFLICT (projection, key) DO UPDATE SET value = excluded.value""",
                    projection,
                    list(upserts),
                    list(upserts.values()),
                )
            if deletes:
                await conn.execute(
                    "DELETE FROM projection_rows WHERE projection = $1 AND key = ANY($2::text[])",
                    projection,
                    deletes,
                )


class _Backend:
    """The batch writer behind the group committer (owns the writer connection).

    Fast path: while this writer knows the chain head (it wrote the last batch), a batch
    is ONE autocommit statement that moves the head only if it is still where we left it
    and inserts the rows only if it moved; one round trip, so the event loop prepares the
    next batch while PostgreSQL writes this one. Slow path (head unknown, or another
    writer moved it): lock the head in an explicit transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._head: ChainHead | None = None  # known only right after our own commit
        self._locked_batches_left = 0  # after a miss another writer is active: lock a while

    async def commit_batch(self, batch: Sequence[PendingAppend]) -> list[tuple[int, int]]:
        conn = self._conn
        head, self._head = self._head, None  # unknown until this batch's outcome is known
        try:
            if head is not None and self._locked_batches_left == 0:
                planned, ranges, new_head = extend_chain(head, [p.rows for p in batch])
                args = _batch_args(batch, planned, ranges, new_head)
                if await conn.fetchval(_WRITE_BATCH_IF_HEAD, *args, head.position, head.hash):
                    self._head = new_head
                    return ranges
                self._locked_batches_left = _LOCKED_BATCHES_AFTER_MISS
            self._locked_batches_left = max(0, self._locked_batches_left - 1)
            async with conn.transaction():
                row = await conn.fetchrow("SELECT position, hash FROM chain_head WHERE id = 1 FOR UPDATE")
                head = ChainHead(row["position"], bytes(row["hash"]))
                planned, ranges, new_head = extend_chain(head, [p.rows for p in batch])
                await conn.execute(_WRITE_BATCH, *_batch_args(batch, planned, ranges, new_head))
            self._head = new_head
        except asyncpg.UniqueViolationError as exc:
            raise RowCollision(str(exc)) from exc
        return ranges

    async def find_existing(
        self, batch: Sequence[PendingAppend]
    ) -> tuple[set[tuple[UUID, int]], dict[tuple[str, str], StoredIdempotency]]:
        rows = [r for p in batch for r in p.rows]
        found = await self._conn.fetch(_FIND_VERSIONS, [r.stream_id for r in rows], [r.version for r in rows])
        versions = {(r["stream_id"], r["version"]) for r in found}
        claims = [p.idempotency for p in batch if p.idempotency is not None]
        stored = await self._conn.fetch(_FIND_KEYS, [c.client_id for c in claims], [c.key for c in claims])
        keys = {(s["client_id"], s["key"]): _stored_idempotency(s) for s in stored}
        return versions, keys


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"invalid schema name {name!r}: letters, digits and _ only")
    return name


def _log_record(row: Any) -> LogRecord:
    # asyncpg returns its own UUID subclass, which eventsourcing's transcoder cannot encode
    # when a use case copies a loaded aggregate's id into a new event: hand out plain UUIDs.
    stream_id = UUID(bytes=row["stream_id"].bytes)
    return LogRecord(row["position"], stream_id, row["version"], row["topic"], bytes(row["state"]), bytes(row["hash"]))


def _stored_idempotency(row: Any) -> StoredIdempotency:
    record = IdempotencyRecord(row["client_id"], row["key"], bytes(row["request_hash"]), bytes(row["response"]))
    return StoredIdempotency(record, row["first_position"], row["last_position"])


def _batch_args(
    batch: Sequence[PendingAppend], planned: Sequence[PlannedRow], ranges: Sequence[tuple[int, int]], head: ChainHead
) -> list[Any]:
    """Parameters $1..$14 of _WRITE_BATCH / _WRITE_BATCH_IF_HEAD."""
    keyed = [(p.idempotency, r) for p, r in zip(batch, ranges, strict=True) if p.idempotency is not None]
    return [
        [p.position for p in planned],
        [p.row.stream_id for p in planned],
        [p.row.version for p in planned],
        [p.row.topic for p in planned],
        [p.row.state for p in planned],
        [p.hash for p in planned],
        [i.client_id for i, _ in keyed],
        [i.key for i, _ in keyed],
        [i.request_hash for i, _ in keyed],
        [i.response for i, _ in keyed],
        [r[0] for _, r in keyed],
        [r[1] for _, r in keyed],
        head.position,
        head.hash,
    ]
