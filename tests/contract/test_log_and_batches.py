"""Global log order, group commit, idempotency and the hash chain, on every adapter."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
import pytest

from adapters.eventstore.chain import GENESIS_HASH, verify_chain
from adapters.eventstore.postgres import split_store_url
from adapters.eventstore.sqlite import sqlite_path
from domain.ports import IdempotencyKeyReused, IdempotencyRecord, StreamConflict
from tests.conftest import StoreFactory
from tests.support.aggregates import Vé, Wallet


def claim(key: str, body: bytes = b"{}", client: str = "counter-1", response: bytes = b"ok") -> IdempotencyRecord:
    return IdempotencyRecord(client, key, body, response)


async def test_global_positions_are_gapless_and_ordered_despite_conflicts(store: Any) -> None:
    taken = Wallet("taken")
    taken_events = taken.collect_events()
    await store.append(taken_events)

    async def append(i: int) -> Any:
        if i % 7 == 0:
            return await store.append(taken_events)  # conflicts
        wallet = Wallet(f"w{i}")
        wallet.credit(i)
        return await store.append(wallet.collect_events())

    results = await asyncio.gather(*(append(i) for i in range(200)), return_exceptions=True)
    assert all(isinstance(r, StreamConflict) for i, r in enumerate(results) if i % 7 == 0)

    positions = [r.position for r in await store.read_log(0, 10_000)]
    assert positions == list(range(1, len(positions) + 1))
    assert len(positions) == 1 + 2 * sum(1 for i in range(200) if i % 7)
    assert (await store.head()).position == positions[-1]


async def test_read_log_pages_from_a_position(store: Any) -> None:
    for i in range(25):
        await store.append(Wallet(f"p{i}").collect_events())
    page = await store.read_log(10, 5)
    assert [r.position for r in page] == [11, 12, 13, 14, 15]
    assert await store.read_log(25, 5) == []
    assert store.decode(page[0]).owner == "p10"


async def test_concurrent_appends_share_transactions(store: Any) -> None:
    before = store.committer.stats.batches
    await asyncio.gather(*(store.append(Wallet(f"c{i}").collect_events()) for i in range(300)))
    batches = store.committer.stats.batches - before
    assert batches < 300 / 4, f"{batches} transactions for 300 concurrent appends"


async def test_batch_size_is_bounded(open_store: StoreFactory) -> None:
    store = await open_store(max_batch_events=10)
    await asyncio.gather(*(store.append(Wallet(f"b{i}").collect_events()) for i in range(100)))
    stats = store.committer.stats
    assert stats.max_batch_events <= 10
    assert stats.batches >= 10
    assert stats.events == 100


async def test_wait_gathers_appends_into_one_batch(open_store: StoreFactory) -> None:
    store = await open_store(max_wait_ms=50)

    async def late(i: int) -> Any:
        await asyncio.sleep(0.005 * i)
        return await store.append(Wallet(f"late{i}").collect_events())

    await asyncio.gather(*(late(i) for i in range(5)))
    assert store.committer.stats.batches == 1


async def test_one_conflict_does_not_fail_the_rest_of_its_batch(open_store: StoreFactory) -> None:
    store = await open_store(max_wait_ms=20)
    existing = Wallet("existing")
    existing_events = existing.collect_events()
    await store.append(existing_events)
    batches_before = store.committer.stats.batches

    fresh = [Wallet(f"ok{i}") for i in range(20)]
    outcomes = await asyncio.gather(
        *(store.append(w.collect_events()) for w in fresh[:10]),
        store.append(existing_events),
        *(store.append(w.collect_events()) for w in fresh[10:]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[10], StreamConflict)
    assert all(not isinstance(o, Exception) for i, o in enumerate(outcomes) if i != 10)
    assert store.committer.stats.batches - batches_before == 1, "the conflict split the batch"
    for wallet in fresh:
        assert len(await store.load(wallet.id)) == 1


async def test_conflict_inside_one_batch_between_two_new_appends(open_store: StoreFactory) -> None:
    store = await open_store(max_wait_ms=20)
    wallet = Wallet("twin")
    events = wallet.collect_events()
    outcomes: tuple[Any, ...] = await asyncio.gather(
        store.append(events),
        store.append(events),
        store.append(Wallet("other").collect_events()),
        return_exceptions=True,
    )
    a, b, c = outcomes
    assert not isinstance(a, Exception)
    assert isinstance(b, StreamConflict)
    assert not isinstance(c, Exception)


async def test_append_resolves_only_after_commit_is_visible_to_other_connections(
    open_store: StoreFactory,
) -> None:
    writer = await open_store()
    reader = await open_store()

    async def append_and_check(i: int) -> None:
        wallet = Wallet(f"v{i}")
        await writer.append(wallet.collect_events())
        assert len(await reader.load(wallet.id)) == 1

    await asyncio.gather(*(append_and_check(i) for i in range(50)))


async def test_idempotent_retry_returns_the_original_result_and_writes_nothing(store: Any) -> None:
    wallet = Wallet("K")
    first = await store.append(wallet.collect_events(), claim("pay-1", response=b'{"id": 1}'))
    retry = await store.append(Wallet("K again").collect_events(), claim("pay-1", response=b"other"))

    assert retry.replayed
    assert retry.response == b'{"id": 1}'
    assert (retry.first_position, retry.last_position) == (first.first_position, first.last_position)
    assert (await store.head()).position == 1
    assert await store.find_idempotency("counter-1", "pay-1") == claim("pay-1", response=b'{"id": 1}')


async def test_same_key_with_a_different_request_is_rejected(store: Any) -> None:
    await store.append(Wallet("L").collect_events(), claim("pay-2", body=b"amount=1"))
    with pytest.raises(IdempotencyKeyReused):
        await store.append(Wallet("L2").collect_events(), claim("pay-2", body=b"amount=2"))
    assert (await store.head()).position == 1


async def test_idempotency_keys_are_scoped_per_client(store: Any) -> None:
    await store.append(Wallet("M").collect_events(), claim("k", client="counter-1"))
    other = await store.append(Wallet("N").collect_events(), claim("k", client="gate-7"))
    assert not other.replayed
    assert (await store.head()).position == 2


async def test_idempotency_record_needs_no_events(store: Any) -> None:
    first = await store.append([], claim("rejected-1", response=b'{"status": 409}'))
    assert (first.first_position, first.last_position) == (0, 0)
    again = await store.append([], claim("rejected-1"))
    assert again.replayed
    assert again.response == b'{"status": 409}'


async def test_concurrent_retries_of_one_request_write_once(open_store: StoreFactory) -> None:
    store = await open_store(max_wait_ms=10)
    wallet = Wallet("O")
    events = wallet.collect_events()
    results = await asyncio.gather(*(store.append(events, claim("same")) for _ in range(5)))
    assert sum(1 for r in results if not r.replayed) == 1
    assert {(r.first_position, r.last_position) for r in results} == {(1, 1)}


async def test_idempotency_record_is_not_kept_when_its_events_conflict(store: Any) -> None:
    wallet = Wallet("P")
    events = wallet.collect_events()
    await store.append(events)
    with pytest.raises(StreamConflict):
        await store.append(events, claim("lost"))
    assert await store.find_idempotency("counter-1", "lost") is None


async def test_hash_chain_verifies(store: Any) -> None:
    for i in range(30):
        await store.append(Wallet(f"h{i}").collect_events())
    head, broken = await verify_chain(store, page_size=7)
    assert broken is None
    assert head == await store.head()
    assert head.hash != GENESIS_HASH


async def _tamper(store_url: str, sql: str) -> None:
    if store_url.startswith("sqlite"):
        with sqlite3.connect(sqlite_path(store_url)) as conn:
            conn.execute(sql)
        return
    dsn, schema = split_store_url(store_url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema or "public"})
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("sql", "position"),
    [
        ("UPDATE events SET topic = topic || 'x' WHERE position = 7", 7),
        ("UPDATE events SET version = 9 WHERE position = 4", 4),
        ("DELETE FROM events WHERE position = 12", 12),
    ],
)
async def test_tampering_is_found_at_its_position(store: Any, store_url: str, sql: str, position: int) -> None:
    for i in range(15):
        await store.append(Wallet(f"t{i}").collect_events())
    await _tamper(store_url, sql)
    head, broken = await verify_chain(store, page_size=5)
    assert broken is not None
    assert broken.position == position
    assert head.position == position - 1


async def test_two_writers_on_one_store_keep_one_gapless_chain(open_store: StoreFactory) -> None:
    """Two stores (as two processes would) append at once: every batch of one writer
    finds the head moved by the other, and must fall back to locking it."""
    first, second = await open_store(), await open_store()

    async def burst(store: Any, tag: str) -> None:
        for round_ in range(10):
            await asyncio.gather(*(store.append(Wallet(f"{tag}{round_}.{i}").collect_events()) for i in range(20)))

    await asyncio.gather(burst(first, "a"), burst(second, "b"))
    head, broken = await verify_chain(first)
    assert broken is None
    assert head.position == 400
    assert [r.position for r in await second.read_log(0, 1_000)] == list(range(1, 401))
    assert await second.head() == head


async def test_chain_covers_non_ascii_topics_and_large_states(store: Any) -> None:
    await store.append(Vé("Vé tháng — tuyến 32, Giáp Bát ↔ Nhổn").collect_events())
    await store.append(Wallet("x" * 70_000).collect_events())
    await store.append(Vé("").collect_events())
    records = await store.read_log(0, 10)
    assert "Vé" in records[0].topic
    head, broken = await verify_chain(store)
    assert broken is None
    assert head.position == 3


async def test_a_waiter_sees_another_writers_append_well_before_its_timeout(open_store: StoreFactory) -> None:
    """Two stores on one URL stand for two workers: a projection runner or a payment's
    event stream in one must not wait out its whole timeout for the other's commits."""
    writer, reader = await open_store(), await open_store()
    head = (await reader.head()).position
    waiting = asyncio.create_task(reader.wait_for_append(head, 30.0))
    await asyncio.sleep(0.05)
    assert not waiting.done(), "nothing appended yet"
    await writer.append(Wallet("elsewhere").collect_events())
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(waiting, 5.0)
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_a_waiter_is_not_woken_by_appends_that_add_no_events(store: Any) -> None:
    """Idempotency-only appends (a retried read-like write, a payment asked for twice)
    leave the log as it was: the projection runners waiting on it must not each read the
    head again for every such batch (eight runners, one head read each, per batch)."""
    await store.append(Wallet("first").collect_events())
    head = (await store.head()).position
    reads = 0
    read_head = store.head

    async def counted() -> Any:
        nonlocal reads
        reads += 1
        return await read_head()

    store.head = counted
    waiting = asyncio.create_task(store.wait_for_append(head, 0.4))  # below the other-writers poll
    await asyncio.sleep(0.02)
    for i in range(20):
        await store.append([], claim(f"only-a-key-{i}"))
    await waiting
    assert reads == 1, f"{reads} head reads for 20 appends without events"


async def test_a_waiter_learns_of_this_stores_commits_without_reading_the_head(store: Any) -> None:
    head = (await store.head()).position
    reads = 0
    read_head = store.head

    async def counted() -> Any:
        nonlocal reads
        reads += 1
        return await read_head()

    store.head = counted
    waiters = [asyncio.create_task(store.wait_for_append(head, 30.0)) for _ in range(8)]
    await asyncio.sleep(0.02)
    await store.append(Wallet("wakes").collect_events())
    await asyncio.wait_for(asyncio.gather(*waiters), 2.0)
    assert reads == 8, f"{reads} head reads: one each when they started waiting, none after the commit"
