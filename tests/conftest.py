from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore
from adapters.eventstore.sqlite import SqliteEventStore

PG_ADMIN_URL = os.environ.get("CITYSETTLE_TEST_PG_URL")


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def admin(sql: str) -> None:
    """Run ``sql`` as the tests' PostgreSQL admin (CREATE/DROP DATABASE)."""
    assert PG_ADMIN_URL
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A throwaway database for the whole test session, dropped at the end."""
    if not PG_ADMIN_URL:
        pytest.skip("CITYSETTLE_TEST_PG_URL is not set (make test sets it)")
    name = f"citysettle_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(PG_ADMIN_URL, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_database_url: str) -> str:
    """A fresh PostgreSQL schema per test inside the session's database."""
    return f"{pg_database_url}?schema=t_{uuid.uuid4().hex[:12]}"


StoreFactory = Callable[..., Any]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/events.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def open_store(store_url: str) -> AsyncIterator[StoreFactory]:
    """Opens stores on this test's URL (several may share it); closes them all after."""
    opened: list[Any] = []

    async def factory(**options: Any) -> Any:
        options.setdefault("codec", CodecOptions())
        if store_url.startswith("sqlite"):
            store: Any = await SqliteEventStore.open(store_url, **options)
        else:
            store = await PostgresEventStore.open(store_url, **options)
        opened.append(store)
        return store

    yield factory
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def store(open_store: StoreFactory) -> Any:
    return await open_store()
