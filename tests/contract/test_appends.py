"""Appending and reading: the properties every event store adapter must have."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.cryptography import AESCipher

from adapters.eventstore.codec import CodecOptions
from domain.ports import StreamConflict
from tests.conftest import StoreFactory
from tests.support.aggregates import Wallet


async def load_wallet(store: Any, wallet_id: Any) -> Wallet:
    aggregate: Any = None
    for event in await store.load(wallet_id):
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Wallet)
    return aggregate


async def test_events_round_trip_through_eventsourcing_mapper(store: Any) -> None:
    wallet = Wallet("Nguyen Van A")
    wallet.credit(25_000)
    wallet.credit(35_000)
    committed = await store.append(wallet.collect_events())

    assert (committed.first_position, committed.last_position) == (1, 3)
    loaded = await load_wallet(store, wallet.id)
    assert loaded.owner == "Nguyen Van A"
    assert loaded.balance_vnd == 60_000
    assert loaded.version == 3
    assert loaded.created_on == wallet.created_on


async def test_load_after_version_returns_only_newer_events(store: Any) -> None:
    wallet = Wallet("B")
    for amount in (1, 2, 3):
        wallet.credit(amount)
    await store.append(wallet.collect_events())
    newer = await store.load(wallet.id, after_version=2)
    assert [e.originator_version for e in newer] == [3, 4]
    assert await store.load(uuid4()) == []


async def test_stored_state_is_readable_json_without_options(store: Any) -> None:
    wallet = Wallet("Tran Thi C")
    await store.append(wallet.collect_events())
    (record,) = await store.read_log(0, 10)
    assert record.topic == "tests.support.aggregates:Wallet.Opened"
    assert b'"owner":"Tran Thi C"' in record.state


@pytest.mark.parametrize("compress", [False, True])
async def test_encrypted_state_is_opaque_at_rest_and_decodes(open_store: StoreFactory, compress: bool) -> None:
    key = AESCipher.create_key(32)
    store = await open_store(codec=CodecOptions(compress=compress, cipher_key=key))
    wallet = Wallet("Le Van D")
    wallet.credit(45_000)
    await store.append(wallet.collect_events())

    records = await store.read_log(0, 10)
    assert all(b"Le Van D" not in r.state and b"45000" not in r.state for r in records)
    assert (await load_wallet(store, wallet.id)).balance_vnd == 45_000


async def test_wrong_cipher_key_cannot_read_events(open_store: StoreFactory) -> None:
    writer = await open_store(codec=CodecOptions(cipher_key=AESCipher.create_key(16)))
    wallet = Wallet("E")
    await writer.append(wallet.collect_events())
    other_key = base64.b64encode(os.urandom(16)).decode()
    reader = await open_store(codec=CodecOptions(cipher_key=other_key))
    with pytest.raises(ValueError, match="Failed to deserialise"):
        await reader.load(wallet.id)


async def test_compressed_state_is_smaller_for_repetitive_events(open_store: StoreFactory) -> None:
    store = await open_store(codec=CodecOptions(compress=True))
    wallet = Wallet("x" * 2_000)
    await store.append(wallet.collect_events())
    (record,) = await store.read_log(0, 1)
    assert len(record.state) < 500
    assert (await load_wallet(store, wallet.id)).owner == "x" * 2_000


async def test_appending_an_existing_version_is_a_typed_conflict_and_writes_nothing(store: Any) -> None:
    wallet = Wallet("F")
    await store.append(wallet.collect_events())
    copy = await load_wallet(store, wallet.id)
    wallet.credit(10)
    copy.credit(20)
    await store.append(wallet.collect_events())

    with pytest.raises(StreamConflict) as info:
        await store.append(copy.collect_events())
    assert info.value.stream_id == wallet.id
    assert info.value.version == 2
    assert (await load_wallet(store, wallet.id)).balance_vnd == 10
    assert (await store.head()).position == 2


async def test_multi_event_append_is_all_or_nothing(store: Any) -> None:
    wallet = Wallet("G")
    await store.append(wallet.collect_events())
    rival = await load_wallet(store, wallet.id)
    rival.credit(1)
    await store.append(rival.collect_events())
    wallet.credit(5)  # version 2: taken by the rival
    wallet.credit(6)  # version 3: free, but must not be written alone
    with pytest.raises(StreamConflict):
        await store.append(wallet.collect_events())
    assert [e.originator_version for e in await store.load(wallet.id)] == [1, 2]


async def test_concurrent_writers_on_one_stream_retry_to_a_consistent_result(store: Any) -> None:
    wallet = Wallet("H")
    await store.append(wallet.collect_events())
    conflicts = 0

    async def credit(amount_vnd: int) -> None:
        nonlocal conflicts
        for _ in range(100):  # bounded retries, as the use cases do
            current = await load_wallet(store, wallet.id)
            current.credit(amount_vnd)
            try:
                await store.append(current.collect_events())
            except StreamConflict:
                conflicts += 1
                continue
            return
        raise AssertionError("too many conflicts")

    await asyncio.gather(*(credit(n) for n in range(1, 21)))
    final = await load_wallet(store, wallet.id)
    assert final.balance_vnd == sum(range(1, 21))
    assert final.version == 21
    assert conflicts > 0, "the writers never raced; the test proves nothing"


async def test_exactly_one_of_many_concurrent_creations_wins(store: Any) -> None:
    wallet = Wallet("I")
    events = wallet.collect_events()
    results = await asyncio.gather(*(store.append(events) for _ in range(10)), return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, StreamConflict)) == 9
    assert (await store.head()).position == 1


async def test_store_keeps_events_across_reopen(open_store: StoreFactory) -> None:
    first = await open_store()
    wallet = Wallet("J")
    wallet.credit(7)
    await first.append(wallet.collect_events())
    await first.close()
    second = await open_store()
    assert (await load_wallet(second, wallet.id)).balance_vnd == 7
    assert (await second.head()).position == 2


async def test_load_many_reads_each_stream_from_its_version_in_one_call(store: Any) -> None:
    first, second = Wallet("many-1"), Wallet("many-2")
    second.credit(5)
    second.credit(7)
    await store.append([*first.collect_events(), *second.collect_events()])
    nobody = uuid4()
    found = await store.load_many({first.id: 0, second.id: 1, nobody: 0})
    assert list(found) == [first.id, second.id, nobody]
    assert [e.originator_version for e in found[first.id]] == [1]
    assert [e.originator_version for e in found[second.id]] == [2, 3]
    assert found[nobody] == []
    one_by_one = [await store.load(second.id, 1)]
    assert [type(e) for e in found[second.id]] == [type(e) for e in one_by_one[0]]
    assert await store.load_many({}) == {}
