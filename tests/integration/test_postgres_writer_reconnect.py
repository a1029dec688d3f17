"""The PostgreSQL writer connection survives its backend being killed (network blip, failover).

The batch in flight fails for its callers (it is never replayed behind their back), the next
batch reconnects, and the chain stays gapless. While the writer cannot reconnect, `ping` and
`/readyz` fail even though the read pool still answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.eventstore.chain import verify_chain
from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore, split_store_url
from adapters.eventstore.postgres_writer import CONNECTION_ERRORS
from ops.app import create_app
from ops.config import Config
from ops.keys import STORE
from tests.conftest import PG_ADMIN_URL, _with_database
from tests.support.aggregates import Wallet

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresEventStore]:
    store = await PostgresEventStore.open(pg_url, codec=CodecOptions())
    yield store
    await store.close()


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[Any]:
    dsn, schema = split_store_url(pg_url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema or "public"})
    yield conn
    await conn.close()


def _writer_pid(store: PostgresEventStore) -> int:
    conn = store.writer.connection
    assert conn is not None
    return int(conn.get_server_pid())


async def _terminate(admin: Any, pid: int) -> None:
    assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)


async def _log_positions(store: PostgresEventStore) -> list[int]:
    return [r.position for r in await store.read_log(0, 1_000)]


async def _assert_chain_intact(store: PostgresEventStore, events: int) -> None:
    assert await _log_positions(store) == list(range(1, events + 1))
    head, broken = await verify_chain(store)
    assert broken is None
    assert head == await store.head()
    assert head.position == events


async def test_batch_in_flight_when_the_writer_is_killed_fails_and_the_next_append_reconnects(
    store: PostgresEventStore, admin: Any, pg_url: str
) -> None:
    await store.append(Wallet("before").collect_events())  # position 1; the writer knows the head
    pid = _writer_pid(store)

    dsn, _ = split_store_url(pg_url)
    watcher = await asyncpg.connect(dsn)
    try:
        async with admin.transaction():  # hold the chain head: the next batch waits on it
            await admin.fetchrow("SELECT * FROM chain_head WHERE id = 1 FOR UPDATE")
            in_flight = asyncio.create_task(store.append(Wallet("in flight").collect_events()))
            for _ in range(500):
                waiting = await watcher.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
                if waiting == "Lock":
                    break
                await asyncio.sleep(0.01)
            assert waiting == "Lock"
            await _terminate(watcher, pid)
            with pytest.raises(CONNECTION_ERRORS):
                await in_flight
    finally:
        await watcher.close()

    after = await store.append(Wallet("after").collect_events())
    assert (after.first_position, after.last_position) == (2, 2)  # the failed batch wrote nothing
    assert _writer_pid(store) != pid
    await _assert_chain_intact(store, 2)
    events = [store.decode(r) for r in await store.read_log(0, 10)]
    owners = [e.owner for e in events if isinstance(e, Wallet.Opened)]
    assert owners == ["before", "after"]  # never replayed behind its callers' back

    more = await asyncio.gather(*(store.append(Wallet(f"w{i}").collect_events()) for i in range(20)))
    assert sorted(c.first_position for c in more) == list(range(3, 23))
    await _assert_chain_intact(store, 22)


async def test_writer_killed_while_idle_reconnects_for_the_next_batch(store: PostgresEventStore, admin: Any) -> None:
    await store.append(Wallet("a").collect_events())
    pid = _writer_pid(store)
    await _terminate(admin, pid)
    for _ in range(500):  # the client notices the closed socket
        conn = store.writer.connection
        if conn is None or conn.is_closed():
            break
        await asyncio.sleep(0.01)

    committed = await store.append(Wallet("b").collect_events())
    assert committed.first_position == 2
    assert _writer_pid(store) != pid
    await _assert_chain_intact(store, 2)


async def test_readiness_fails_while_the_writer_cannot_reconnect(
    aiohttp_client: ClientFactory, own_database: str
) -> None:
    assert PG_ADMIN_URL
    client = await aiohttp_client(create_app(Config(store_url=_with_database(PG_ADMIN_URL, own_database))))
    app = client.app
    assert app is not None
    store = app[STORE]
    assert isinstance(store, PostgresEventStore)
    await store.append(Wallet("a").collect_events())
    assert (await client.get("/readyz")).status == 200

    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'ALTER DATABASE "{own_database}" WITH ALLOW_CONNECTIONS false')
        await _terminate(admin, _writer_pid(store))

        response = await client.get("/readyz")
        assert response.status == 503  # although the read pool still answers
        assert (await store.head()).position == 1
        with pytest.raises(asyncpg.PostgresError):
            await store.ping()
        with pytest.raises(asyncpg.PostgresError):
            await store.append(Wallet("refused").collect_events())
    finally:
        await admin.execute(f'ALTER DATABASE "{own_database}" WITH ALLOW_CONNECTIONS true')
        await admin.close()

    assert (await client.get("/readyz")).status == 200
    committed = await store.append(Wallet("b").collect_events())
    assert committed.first_position == 2
    await _assert_chain_intact(store, 2)
