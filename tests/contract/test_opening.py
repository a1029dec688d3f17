"""Opening a store: read-write opens create and migrate it, existing-only opens never do."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.eventstore import postgres, postgres_schema, sqlite
from adapters.eventstore.base import StoreNotFound
from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore, split_store_url
from adapters.eventstore.sqlite import SqliteEventStore
from tests.conftest import StoreFactory
from tests.support.aggregates import Wallet
from tests.support.old_store import append_by_sql


async def _schema_exists(url: str) -> bool:
    dsn, schema = split_store_url(url)
    conn = await asyncpg.connect(dsn)
    try:
        return bool(await conn.fetchval("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema))
    finally:
        await conn.close()


async def test_existing_only_open_refuses_a_missing_store_and_creates_nothing(
    open_store: StoreFactory, store_url: str, backend: str
) -> None:
    with pytest.raises(StoreNotFound, match="no event store"):
        await open_store(create=False)
    if backend == "sqlite":
        assert not _exists(sqlite.sqlite_path(store_url))
    else:
        assert not await _schema_exists(store_url)


async def test_existing_only_open_does_not_make_directories(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/typo/dir/events.db"
    with pytest.raises(StoreNotFound, match="does not exist"):
        await SqliteEventStore.open(url, create=False)
    assert not (tmp_path / "typo").exists()


async def test_existing_only_open_refuses_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"not a database at all, just some bytes " * 200)
    with pytest.raises(StoreNotFound):
        await SqliteEventStore.open(f"sqlite:///{notes}", create=False)
    assert notes.read_bytes() == b"not a database at all, just some bytes " * 200


async def test_existing_only_open_refuses_an_sqlite_database_of_something_else(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (a)")
    with pytest.raises(StoreNotFound, match="schema_migrations"):
        await SqliteEventStore.open(f"sqlite:///{other}", create=False)
    with sqlite3.connect(other) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # left as it was


async def test_existing_only_open_refuses_an_older_schema_and_does_not_migrate(
    open_store: StoreFactory, backend: str, store_url: str
) -> None:
    module: Any = sqlite if backend == "sqlite" else postgres
    old = await open_store(migrations=module.MIGRATIONS[:1])
    before = Wallet("before").collect_events()
    if backend == "postgres":  # the append function arrives with schema 4
        await append_by_sql(store_url, before)
    else:
        await old.append(before)
    await old.close()

    with pytest.raises(StoreNotFound, match=f"schema version 1.*{len(module.MIGRATIONS)}"):
        await open_store(create=False)
    still_old = await open_store(create=False, migrations=module.MIGRATIONS[:1])
    assert await still_old.schema_version() == 1


async def test_existing_only_open_reads_and_writes_a_current_store(open_store: StoreFactory) -> None:
    first = await open_store()
    await first.append(Wallet("w").collect_events())
    await first.close()

    existing = await open_store(create=False)
    assert [r.position for r in await existing.read_log(0, 10)] == [1]
    committed = await existing.append(Wallet("x").collect_events())
    assert committed.first_position == 2


async def test_existing_only_open_on_postgres_names_the_url_without_its_password(pg_database_url: str) -> None:
    url = f"{pg_database_url}?schema=t_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(StoreNotFound) as caught:
        await PostgresEventStore.open(url, create=False)
    assert "citysettle:citysettle@" not in str(caught.value)
    assert "citysettle:***@" in str(caught.value)
    assert "t_missing_" in str(caught.value)

    missing_db = pg_database_url.rpartition("/")[0] + f"/no_such_db_{uuid.uuid4().hex[:8]}"
    with pytest.raises(StoreNotFound, match="database does not exist"):
        await PostgresEventStore.open(missing_db, create=False)


async def test_concurrent_first_opens_on_a_new_schema_all_succeed(pg_database_url: str) -> None:
    for _ in range(3):  # several fresh schemas: the race is likely, not certain, on one
        url = f"{pg_database_url}?schema=t_race_{uuid.uuid4().hex[:8]}"
        results = await asyncio.gather(
            *(PostgresEventStore.open(url, codec=CodecOptions()) for _ in range(4)), return_exceptions=True
        )
        stores = [r for r in results if isinstance(r, PostgresEventStore)]
        try:
            assert stores == results, [r for r in results if not isinstance(r, PostgresEventStore)]
            assert {await s.schema_version() for s in stores} == {len(postgres_schema.MIGRATIONS)}
            await asyncio.gather(*(s.append(Wallet(f"o{i}").collect_events()) for i, s in enumerate(stores)))
            assert [r.position for r in await stores[0].read_log(0, 10)] == [1, 2, 3, 4]
        finally:
            for s in stores:
                await s.close()


def _exists(path: str) -> bool:
    return Path(path).exists()
