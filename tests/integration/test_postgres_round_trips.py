"""What a request's reads cost on PostgreSQL: each read is one statement on the server, and
concurrent reads share one (`adapters.eventstore.read_batching`).

asyncpg's pool, by default, sends a session reset (advisory unlock, CLOSE ALL, UNLISTEN,
RESET ALL) every time a connection goes back to it: a second round trip for every read,
which the profile of ``POST /v1/payments`` found to be a sixth of a worker's time. The
store's read pool changes no session state (no SET, LISTEN, cursors or advisory locks: the
migration and leader locks have connections of their own), so it is not reset; an open
transaction is still rolled back by asyncpg before a connection is reused.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore
from domain.ports import IdempotencyRecord
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


async def test_concurrent_reads_share_one_statement_and_each_gets_its_own_answer(store: PostgresEventStore) -> None:
    first, second = Wallet("a"), Wallet("b")
    second.credit(5)
    record = IdempotencyRecord("client", "k1", b"h" * 32, b'{"status": 201}')
    await store.append([*first.collect_events(), *second.collect_events()], record)
    missing = uuid.uuid4()
    seen = await logged_statements(store)

    loads = await asyncio.gather(
        store.load(first.id),
        store.load(second.id),
        store.load(second.id, after_version=1),
        store.load(second.id),  # the same read twice: one key, both answered
        store.load(missing),
    )
    found = await asyncio.gather(
        store.find_idempotency("client", "k1"),
        store.find_idempotency("client", "k2"),
        store.find_idempotency("other", "k1"),
    )

    assert [[e.originator_version for e in events] for events in loads] == [[1], [1, 2], [2], [1, 2], []]
    assert loads[1][1].amount_vnd == 5
    assert loads[1][0] is not loads[3][0]  # decoded for each caller: no shared mutable state
    assert list(found) == [record, None, None]
    ours = [q for q in seen if "FROM events" in q or "FROM idempotency_keys" in q]  # not asyncpg's type lookups
    assert len(ours) == 2, seen
    assert store.stream_reads.batches == 1
    assert store.idempotency_reads.batches == 1


async def test_a_read_asked_after_a_commit_sees_it(store: PostgresEventStore) -> None:
    wallet = Wallet("fresh")
    await store.append(wallet.collect_events())

    async def deposit_then_read() -> int:
        wallet.credit(1)
        await store.append(wallet.collect_events())
        return len(await store.load(wallet.id))

    # other reads keep the batcher busy while the append commits
    results = await asyncio.gather(deposit_then_read(), *(store.load(uuid.uuid4()) for _ in range(20)))
    assert results[0] == 2


async def test_a_failed_batch_fails_each_of_its_reads(store: PostgresEventStore) -> None:
    await store._pool.close()  # every statement now fails
    outcomes = await asyncio.gather(store.load(uuid.uuid4()), store.load(uuid.uuid4()), return_exceptions=True)
    assert all(isinstance(o, asyncpg.InterfaceError) for o in outcomes), outcomes
