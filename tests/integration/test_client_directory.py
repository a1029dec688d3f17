"""`ClientDirectory` on a real store: when a cached client expires, the requests that find it
so at once share one read; with no cache every request reads; a key's use is decided on the
client as loaded (a revocation is refused although its key object is kept)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore
from adapters.http.auth import ClientDirectory
from adapters.http.signatures import SignatureRejected
from adapters.secrets import SecretSealer
from domain.model.clients import Role, client_of_key
from domain.services.clients import revoke_client
from domain.services.unit_of_work import execute
from tests.support.api import new_client


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresEventStore]:
    store = await PostgresEventStore.open(pg_url, codec=CodecOptions())
    yield store
    await store.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_expired_client_is_read_once_for_the_requests_that_find_it_so(store: PostgresEventStore) -> None:
    signer = await new_client(store, Role.TERMINAL)
    clock = Clock()
    directory = ClientDirectory(store, SecretSealer(None), cache_ttl_s=1.0, monotonic=clock)
    await directory.resolve(signer.key_id, datetime.now(UTC))
    reads = store.stream_reads.reads
    clock.now += 1.5  # expired

    async def later(delay_s: float) -> str:
        await asyncio.sleep(delay_s)  # not in one turn of the loop: no help from read batching
        caller, _ = await directory.resolve(signer.key_id, datetime.now(UTC))
        return caller.client_id

    callers = await asyncio.gather(*(later(i * 0.0001) for i in range(20)))
    assert set(callers) == {client_of_key(signer.key_id)}
    assert store.stream_reads.reads - reads <= 2, "one read (a second if it ended before the last came)"


async def test_without_a_cache_every_request_reads_and_sees_a_revocation(store: PostgresEventStore) -> None:
    signer = await new_client(store, Role.TERMINAL)
    directory = ClientDirectory(store, SecretSealer(None), cache_ttl_s=0.0)
    _, first = await directory.resolve(signer.key_id, datetime.now(UTC))
    _, again = await directory.resolve(signer.key_id, datetime.now(UTC))
    assert again is first  # the public key object is made once
    reads = store.stream_reads.reads
    await asyncio.gather(*(directory.resolve(signer.key_id, datetime.now(UTC)) for _ in range(3)))
    assert store.stream_reads.reads - reads == 3

    await execute(store, revoke_client(client_of_key(signer.key_id), "lost", datetime.now(UTC)))
    with pytest.raises(SignatureRejected) as refused:
        await directory.resolve(signer.key_id, datetime.now(UTC))
    assert refused.value.check == "key-revoked"


async def test_a_failed_shared_read_fails_its_waiters_and_the_next_request_reads_again(
    store: PostgresEventStore,
) -> None:
    signer = await new_client(store, Role.TERMINAL)
    clock = Clock()
    directory = ClientDirectory(store, SecretSealer(None), cache_ttl_s=1.0, monotonic=clock)
    pool = store._pool
    store._pool = None  # the statement fails (AttributeError) for everyone sharing it
    try:
        outcomes = await asyncio.gather(
            *(directory.resolve(signer.key_id, datetime.now(UTC)) for _ in range(3)), return_exceptions=True
        )
    finally:
        store._pool = pool
    assert all(isinstance(o, AttributeError) for o in outcomes), outcomes
    caller, _ = await directory.resolve(signer.key_id, datetime.now(UTC))
    assert caller.client_id == client_of_key(signer.key_id)
