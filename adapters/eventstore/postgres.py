"""PostgreSQL event store through asyncpg (production).

One dedicated connection writes (`postgres_writer`, which also reconnects it); a small
pool reads, and concurrent stream loads and idempotency lookups share a statement
(`read_batching`). A batch is one autocommit statement, `citysettle_append` (schema 4): it locks
the chain head, positions and hashes the rows, inserts them and the idempotency records
and moves the head. The head row lock serialises writers (also across processes), which
is what makes positions gapless and visible in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import asyncpg

from adapters.eventstore.base import BatchedEventStore, StoreNotFound, redacted_url, require_schema
from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.group_commit import DEFAULT_BATCH_EVENTS
from adapters.eventstore.postgres_schema import (
    MIGRATIONS,
    migrate,
    schema_identifier,
    stored_version,
)
from adapters.eventstore.postgres_writer import CONNECTION_ERRORS, PostgresWriter, stored_idempotency
from adapters.eventstore.read_batching import ReadBatcher
from domain.ports import (
    ChainHead,
    Checkpoint,
    IdempotencyRecord,
    JSONValue,
    LogRecord,
    TrackingConflict,
)

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

    # the server is gone, refuses or cuts connections, is starting or shutting down, has
    # no connection slot or disk left
    unavailable_errors = (
        *BatchedEventStore.unavailable_errors,
        *CONNECTION_ERRORS,
        asyncpg.exceptions.OperatorInterventionError,
        asyncpg.exceptions.InsufficientResourcesError,
        asyncpg.exceptions.ObjectNotInPrerequisiteStateError,  # the database refuses connections
        # a pool connection whose server shut down in the middle of an operation
        # ("cannot switch to state ...; another operation is in progress")
        asyncpg.InternalClientError,
    )

    def __init__(
        self, writer: PostgresWriter, pool: Any, codec: CodecOptions, *, read_pool_size: int = 4, **batching: Any
    ) -> None:
        super().__init__(writer, codec, **batching)
        self.writer = writer
        self._pool = pool
        # concurrent requests' stream reads and idempotency lookups, one statement per batch
        self.stream_reads: ReadBatcher[tuple[UUID, int], list[LogRecord]] = ReadBatcher(
            self._load_batch, max_in_flight=read_pool_size
        )
        self.idempotency_reads: ReadBatcher[tuple[str, str], IdempotencyRecord | None] = ReadBatcher(
            self._find_idempotency_batch, max_in_flight=read_pool_size
        )

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
        read_pool_size: int = 4,
        connect_timeout_s: float = 10.0,
        migrations: Sequence[tuple[int, str]] = MIGRATIONS,
    ) -> PostgresEventStore:
        """Open the store; with ``create`` (the default) create the schema and migrate it,
        without it (read-only intent) raise `StoreNotFound` unless it exists and is current."""
        dsn, schema = split_store_url(url)
        settings = {"search_path": schema_identifier(schema)} if schema else {}

        async def connect() -> Any:
            return await asyncpg.connect(dsn, server_settings=settings, timeout=connect_timeout_s)

        try:
            conn = await connect()
        except asyncpg.InvalidCatalogNameError as exc:
            if create:
                raise
            raise StoreNotFound(f"no event store at {redacted_url(url)}: the database does not exist") from exc
        try:
            if create:
                await migrate(conn, migrations, schema)
            else:
                require_schema(url, await stored_version(conn), migrations)
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=read_pool_size,
                server_settings=settings,
                timeout=connect_timeout_s,
                reset=_keep_session,
            )
        except BaseException:
            await conn.close()
            raise
        store = cls(
            PostgresWriter(connect, conn),
            pool,
            codec or CodecOptions(),
            max_batch_events=max_batch_events,
            max_wait_ms=max_wait_ms,
            max_pending=max_pending,
            adaptive_batches=adaptive_batches,
            read_pool_size=read_pool_size,
        )
        store.committer.start()
        return store

    async def _release(self) -> None:
        await self.stream_reads.close()
        await self.idempotency_reads.close()
        await self._pool.close()
        await self.writer.close()

    async def schema_version(self) -> int:
        return int(await self._pool.fetchval("SELECT max(version) FROM schema_migrations"))

    async def load(self, stream_id: UUID, after_version: int = 0) -> list[Any]:
        records = await self.stream_reads.read((stream_id, after_version))
        return [self.decode(r) for r in records]

    async def _load_batch(self, keys: Sequence[tuple[UUID, int]]) -> list[list[LogRecord]]:
        """The events of each (stream, after version) of concurrent `load` calls."""
        if len(keys) == 1:
            ((stream_id, after_version),) = keys
            rows = await self._pool.fetch(
                f"SELECT {_LOG_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version",
                stream_id,
                after_version,
            )
            return [[_log_record(r) for r in rows]]
        rows = await self._pool.fetch(
            f"""SELECT t.n, {", ".join(f"e.{c}" for c in _LOG_COLUMNS.split(", "))} FROM events e
                JOIN unnest($1::uuid[], $2::bigint[]) WITH ORDINALITY AS t(stream_id, after_version, n)
                  ON e.stream_id = t.stream_id AND e.version > t.after_version
                ORDER BY t.n, e.version""",
            [stream_id for stream_id, _ in keys],
            [after_version for _, after_version in keys],
        )
        found: list[list[LogRecord]] = [[] for _ in keys]
        for row in rows:
            found[row["n"] - 1].append(_log_record(row))
        return found

    async def load_many(self, after_versions: Mapping[UUID, int]) -> dict[UUID, list[Any]]:
        found: dict[UUID, list[Any]] = {stream_id: [] for stream_id in after_versions}
        if not found:
            return found
        rows = await self._pool.fetch(
            f"""SELECT {", ".join(f"e.{c}" for c in _LOG_COLUMNS.split(", "))} FROM events e
                JOIN unnest($1::uuid[], $2::bigint[]) AS t(stream_id, after_version)
                  ON e.stream_id = t.stream_id AND e.version > t.after_version
                ORDER BY e.stream_id, e.version""",
            list(after_versions),
            list(after_versions.values()),
        )
        for row in rows:
            record = _log_record(row)
            found[record.stream_id].append(self.decode(record))
        return found

    async def find_idempotency(self, client_id: str, key: str) -> IdempotencyRecord | None:
        return await self.idempotency_reads.read((client_id, key))

    async def _find_idempotency_batch(self, keys: Sequence[tuple[str, str]]) -> list[IdempotencyRecord | None]:
        """The records of concurrent `find_idempotency` calls."""
        if len(keys) == 1:
            ((client_id, key),) = keys
            row = await self._pool.fetchrow(
                "SELECT * FROM idempotency_keys WHERE client_id = $1 AND key = $2", client_id, key
            )
            return [None if row is None else stored_idempotency(row).record]
        rows = await self._pool.fetch(
            """SELECT t.n, i.* FROM idempotency_keys i
               JOIN unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(client_id, key, n)
                 ON i.client_id = t.client_id AND i.key = t.key""",
            [client_id for client_id, _ in keys],
            [key for _, key in keys],
        )
        found: list[IdempotencyRecord | None] = [None] * len(keys)
        for row in rows:
            found[row["n"] - 1] = stored_idempotency(row).record
        return found

    async def prune_idempotency_keys(self, recorded_before_us: int, limit: int) -> int:
        """Forget at most ``limit`` idempotency keys recorded before ``recorded_before_us``
        (microseconds since the epoch), the oldest first; how many were forgotten. One
        statement on a pool connection: it takes no lock the writer needs (the batch's
        inserts touch new keys only)."""
        assert limit > 0
        done = await self._pool.execute(
            """DELETE FROM idempotency_keys WHERE (client_id, key) IN (
                   SELECT client_id, key FROM idempotency_keys WHERE recorded_at_us < $1
                   ORDER BY recorded_at_us LIMIT $2)""",
            recorded_before_us,
            limit,
        )
        return int(done.split()[-1])

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
        """Both the writer (reconnecting it if it was dropped) and the read pool answer."""
        await self.writer.ping()
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


async def _keep_session(_conn: Any) -> None:
    """The read pool's release: no session reset query. asyncpg's default sends one
    (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) on every release, a second round
    trip per read; the pool's connections never change session state (no SET, LISTEN,
    cursors or advisory locks: migrations and the leader lock use connections of their
    own). asyncpg still rolls back a transaction left open before this is called."""


def _log_record(row: Any) -> LogRecord:
    # asyncpg returns its own UUID subclass, which eventsourcing's transcoder cannot encode
    # when a use case copies a loaded aggregate's id into a new event: hand out plain UUIDs.
    stream_id = UUID(bytes=row["stream_id"].bytes)
    return LogRecord(row["position"], stream_id, row["version"], row["topic"], bytes(row["state"]), bytes(row["hash"]))
