"""The one follower of the log behind every server-sent event stream, on each store: it
wakes the waiters of the stream that got events and no others, sees appends made after
a waiter registered, and stops following once nobody watches."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.http.stream_watch import StreamWatch
from tests.support.aggregates import Wallet


async def test_only_the_changed_stream_is_woken(store: Any) -> None:
    one, other = Wallet("one"), Wallet("other")
    await store.append([*one.collect_events(), *other.collect_events()])
    watch = StreamWatch(store)
    async with watch.watching(one.id) as one_changed, watch.watching(other.id) as other_changed:
        assert (watch.watched, watch.following) == (2, True)
        one.credit(5_000)
        await store.append(one.collect_events())
        await asyncio.wait_for(one_changed.wait(), 5)
        await asyncio.sleep(0.2)
        assert not other_changed.is_set(), "a stream without new events is left asleep"
        other.credit(7_000)
        await store.append(other.collect_events())
        await asyncio.wait_for(other_changed.wait(), 5)
    assert watch.watched == 0
    assert not watch.following, "no follower once nobody watches"


async def test_an_append_right_after_registering_is_seen(store: Any) -> None:
    wallet = Wallet("w")
    await store.append(wallet.collect_events())
    watch = StreamWatch(store)
    for amount in (1_000, 2_000, 3_000):  # each time the follower starts afresh
        async with watch.watching(wallet.id) as changed:
            wallet.credit(amount)
            await store.append(wallet.collect_events())  # before the follower has run at all
            await asyncio.wait_for(changed.wait(), 5)
