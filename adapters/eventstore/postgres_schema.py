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
