"""What a request's reads cost on PostgreSQL: each read is one statement on the server.

asyncpg's pool, by default, sends a session reset (advisory unlock, CLOSE ALL, UNLISTEN,
RESET ALL) every time a connection goes back to it: a second round trip for every read,
which the profile of ``POST /v1/payments`` found to be a sixth of a worker's time. The
store's read pool changes no session state (no SET, LISTEN, cursors or advisory locks: the
migration and leader locks have connections of their own), so it is not reset; an open
transaction is still rolled back by asyncpg before a connection is reused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore
from tests.support.aggregates import Wallet


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresEventStore]:
    store = await PostgresEventStore.open(pg_url, codec=CodecOptions(), read_pool_size=2)
    yield store
    await store.close()


async def logged_statements(store: PostgresEventStore) -> list[str]:
    """Every statement the read pool's connections send from now on (asyncpg's query logger)."""
    seen: list[str] = []
    pool: Any = store._pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    for conn in held:
        conn.add_query_logger(lambda record: seen.append(record.query))
    for conn in held:
        await pool.release(conn)
    seen.clear()  # releasing them just now is not part of what is measured
    return seen


async def test_each_read_is_one_statement_without_a_session_reset(store: PostgresEventStore) -> None:
    wallet = Wallet("reads")
    await store.append(wallet.collect_events())
    seen = await logged_statements(store)

    assert len(await store.load(wallet.id)) == 1
    assert await store.find_idempotency("client", "key") is None
    assert (await store.head()).position == 1

    assert len(seen) == 3, seen
    assert not any("RESET" in q or "UNLISTEN" in q or "advisory" in q for q in seen), seen


async def test_a_transaction_left_open_is_still_rolled_back_before_reuse(store: PostgresEventStore) -> None:
    pool: Any = store._pool
    conn = await pool.acquire()
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute("CREATE TEMPORARY TABLE scratch_never_committed (n int) ON COMMIT DROP")
    await pool.release(conn)  # asyncpg complains and rolls it back
    assert await store.load(uuid.uuid4()) == []
    for _ in range(pool.get_max_size()):
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('scratch_never_committed')") is None
