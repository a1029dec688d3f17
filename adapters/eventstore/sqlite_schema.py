"""SQLite schema of the event store, created and migrated by the adapter itself.

Migrations are numbered and applied in order, each in one ``BEGIN IMMEDIATE``
transaction (which also keeps two processes from migrating at once);
`schema_migrations` records which ones ran.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE events (
            position  INTEGER PRIMARY KEY,
            stream_id BLOB    NOT NULL,
            version   INTEGER NOT NULL,
            topic     TEXT    NOT NULL,
            state     BLOB    NOT NULL,
            hash      BLOB    NOT NULL,
            UNIQUE (stream_id, version)
        );
        CREATE TABLE chain_head (
            id       INTEGER PRIMARY KEY CHECK (id = 1),
            position INTEGER NOT NULL,
            hash     BLOB    NOT NULL
        );
        INSERT INTO chain_head VALUES (1, 0, zeroblob(32));
        CREATE TABLE idempotency_keys (
            client_id      TEXT    NOT NULL,
            key            TEXT    NOT NULL,
            request_hash   BLOB    NOT NULL,
            response       BLOB    NOT NULL,
            first_position INTEGER NOT NULL,
            last_position  INTEGER NOT NULL,
            PRIMARY KEY (client_id, key)
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE tracking (
            projection TEXT    PRIMARY KEY,
            position   INTEGER NOT NULL
        );
        CREATE TABLE projection_rows (
            projection TEXT NOT NULL,
            key        TEXT NOT NULL,
            value      TEXT NOT NULL,
            PRIMARY KEY (projection, key)
        );
        """,
    ),
    (
        3,
        """
        CREATE TABLE checkpoints (
            position     INTEGER PRIMARY KEY,
            hash         BLOB    NOT NULL,
            key_id       TEXT    NOT NULL,
            signed_at_us INTEGER NOT NULL,
            signature    BLOB    NOT NULL
        );
        """,
    ),
    (
        4,
        # When each idempotency key was recorded (microseconds since the epoch), for
        # keeping them for a window only; keys recorded before this migration count from
        # it. The writer stamps new keys (SQLite cannot default a new column to the time).
        """
        ALTER TABLE idempotency_keys ADD COLUMN recorded_at_us INTEGER NOT NULL DEFAULT 0;
        UPDATE idempotency_keys SET recorded_at_us = CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER);
        CREATE INDEX idempotency_keys_recorded_at ON idempotency_keys (recorded_at_us);
        """,
    ),
]


def migrate(c: sqlite3.Connection, migrations: Sequence[tuple[int, str]] = MIGRATIONS) -> int:
    """Apply missing migrations in one write transaction each; return the schema version."""
    c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    current = schema_version_of(c)
    for version, sql in migrations:
        if version <= current:
            continue
        c.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if schema_version_of(c) < version:
                for statement in _statements(sql):
                    c.execute(statement)
                c.execute("INSERT INTO schema_migrations VALUES (?, datetime('now'))", (version,))
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        current = version
    return current


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def schema_version_of(c: sqlite3.Connection) -> int:
    return int(c.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])


def stored_version(c: sqlite3.Connection) -> int | None:
    """The schema version, or None when there is no ``schema_migrations`` table."""
    found = c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone()
    return None if found is None else schema_version_of(c)
