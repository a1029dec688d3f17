"""PostgreSQL schema of the event store, created and migrated by the adapter itself.

Migrations are numbered and applied in order, each in its own transaction, under an
advisory lock; `schema_migrations` records which ones ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SCHEMA_LOCK_KEY = 0x63697479  # advisory lock held while migrating ("city")

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE events (
            position   bigint PRIMARY KEY,
            stream_id  uuid   NOT NULL,
            version    bigint NOT NULL,
            topic      text   NOT NULL,
            state      bytea  NOT NULL,
            hash       bytea  NOT NULL,
            CONSTRAINT events_stream_version UNIQUE (stream_id, version)
        );
        CREATE TABLE chain_head (
            id       int    PRIMARY KEY CHECK (id = 1),
            position bigint NOT NULL,
            hash     bytea  NOT NULL
        );
        INSERT INTO chain_head VALUES (1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000');
        CREATE TABLE idempotency_keys (
            client_id      text   NOT NULL,
            key            text   NOT NULL,
            request_hash   bytea  NOT NULL,
            response       bytea  NOT NULL,
            first_position bigint NOT NULL,
            last_position  bigint NOT NULL,
            PRIMARY KEY (client_id, key)
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE tracking (
            projection text   PRIMARY KEY,
            position   bigint NOT NULL
        );
        CREATE TABLE projection_rows (
            projection text  NOT NULL,
            key        text  NOT NULL,
            value      jsonb NOT NULL,
            PRIMARY KEY (projection, key)
        );
        """,
    ),
    (
        3,
        """
        CREATE TABLE checkpoints (
            position     bigint PRIMARY KEY,
            hash         bytea  NOT NULL,
            key_id       text   NOT NULL,
            signed_at_us bigint NOT NULL,
            signature    bytea  NOT NULL
        );
        """,
    ),
    (
        4,
        # One-round-trip append for any writer: lock the head, give the rows the next
        # positions, chain their hashes exactly as `chain.canonical_row_bytes` /
        # `chain.chain_hash` do (big-endian u64 position and version, 16 uuid bytes, u32
        # length + UTF-8 topic, u32 length + state), insert the rows and the idempotency
        # records, move the head; return the head position before the batch. Idempotency
        # positions are passed relative to it (0 = an append without events: stays 0).
        # Tables are resolved through the caller's search_path (the store's schema).
        """
        CREATE FUNCTION citysettle_append(
            p_stream_id uuid[], p_version bigint[], p_topic text[], p_state bytea[],
            k_client_id text[], k_key text[], k_request_hash bytea[], k_response bytea[],
            k_first bigint[], k_last bigint[]
        ) RETURNS bigint LANGUAGE plpgsql AS $fn$
        DECLARE
            head_position bigint;
            prev bytea;
            hashes bytea[] := '{}';
            v_topic bytea;
            v_state bytea;
            n int := coalesce(array_length(p_stream_id, 1), 0);
        BEGIN
            SELECT position, hash INTO head_position, prev FROM chain_head WHERE id = 1 FOR UPDATE;
            FOR i IN 1..n LOOP
                v_topic := convert_to(p_topic[i], 'UTF8');
                v_state := p_state[i];
                prev := sha256(prev || int8send(head_position + i) || int8send(p_version[i])
                               || uuid_send(p_stream_id[i]) || int4send(octet_length(v_topic)) || v_topic
                               || int4send(octet_length(v_state)) || v_state);
                hashes[i] := prev;
            END LOOP;
            INSERT INTO events (position, stream_id, version, topic, state, hash)
            SELECT head_position + o, s, v, t, st, h
            FROM unnest(p_stream_id, p_version, p_topic, p_state, hashes) WITH ORDINALITY AS u(s, v, t, st, h, o);
            INSERT INTO idempotency_keys (client_id, key, request_hash, response, first_position, last_position)
            SELECT c, k, r, resp,
                   CASE WHEN f = 0 THEN 0 ELSE head_position + f END,
                   CASE WHEN l = 0 THEN 0 ELSE head_position + l END
            FROM unnest(k_client_id, k_key, k_request_hash, k_response, k_first, k_last) AS u(c, k, r, resp, f, l);
            IF n > 0 THEN
                UPDATE chain_head SET position = head_position + n, hash = prev WHERE id = 1;
            END IF;
            RETURN head_position;
        END
        $fn$;
        """,
    ),
    (
        5,
        # When each idempotency key was recorded (microseconds since the epoch, the
        # server's clock), for keeping them for a window only (`prune_idempotency_keys`).
        # Keys recorded before this migration count from it. citysettle_append inserts
        # without the column: the default stamps the batch's transaction.
        """
        ALTER TABLE idempotency_keys
            ADD COLUMN recorded_at_us bigint NOT NULL
            DEFAULT (extract(epoch FROM now()) * 1000000)::bigint;
        CREATE INDEX idempotency_keys_recorded_at ON idempotency_keys (recorded_at_us);
        """,
    ),
]


async def migrate(conn: Any, migrations: Sequence[tuple[int, str]] = MIGRATIONS, schema: str | None = None) -> int:
    """Create ``schema`` if it is missing, then apply the missing migrations in order, each
    in its own transaction; return the schema version. All of it under one advisory lock, so
    that processes starting together on a new store wait for each other instead of racing
    (``CREATE SCHEMA IF NOT EXISTS`` is not safe against a concurrent one on its own)."""
    await conn.execute("SELECT pg_advisory_lock($1)", SCHEMA_LOCK_KEY)
    try:
        if schema:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_identifier(schema)}"')
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        current = int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
        for version, sql in migrations:
            if version <= current:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            current = version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", SCHEMA_LOCK_KEY)


async def stored_version(conn: Any) -> int | None:
    """The schema version, or None when ``schema_migrations`` does not exist (on the search path)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return None
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


def schema_identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"invalid schema name {name!r}: letters, digits and _ only")
    return name
