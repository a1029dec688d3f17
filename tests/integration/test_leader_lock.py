"""The leader lock on each store: one holder at a time, another takes it when the holder
lets go (or dies: the session or the file descriptor ends with it), and `Leadership`
starts and stops the duties with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.eventstore.leader_lock import leader_lock
from adapters.eventstore.postgres import PostgresEventStore
from ops.leadership import Leadership


async def test_one_holder_at_a_time(store_url: str) -> None:
    if store_url.startswith("postgresql"):
        await (await PostgresEventStore.open(store_url)).close()  # the schema must exist for its URL
    first, second = leader_lock(store_url), leader_lock(store_url)
    try:
        assert await first.try_acquire()
        assert await first.held()
        assert not await second.try_acquire()
        assert not await second.held()
        await first.release()
        assert not await first.held()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()


async def test_each_store_has_its_own_lock(pg_url: str, tmp_path: Path) -> None:
    other = pg_url.rsplit("=", 1)[0] + "=t_other_" + pg_url.rsplit("_", 1)[1]
    locks = [leader_lock(pg_url), leader_lock(other), leader_lock(f"sqlite:///{tmp_path}/a.db")]
    locks.append(leader_lock(f"sqlite:///{tmp_path}/b.db"))
    try:
        assert [await lock.try_acquire() for lock in locks] == [True] * 4
    finally:
        for lock in locks:
            await lock.release()


async def test_a_broken_session_has_lost_the_lock(pg_url: str) -> None:
    holder, waiting = leader_lock(pg_url), leader_lock(pg_url)
    try:
        assert await holder.try_acquire()
        holder._conn.terminate()  # type: ignore[attr-defined]  # as when the network or the server drops it
        assert not await holder.held()
        assert await waiting.try_acquire()
    finally:
        await holder.release()
        await waiting.release()


async def test_the_duties_follow_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db"
    running: list[str] = []

    def duties(name: str) -> Leadership:
        async def run(stop: asyncio.Event) -> None:
            running.append(name)
            try:
                await stop.wait()
            finally:
                running.remove(name)

        return Leadership(leader_lock(url), run, retry_s=0.02)

    first, second = duties("first"), duties("second")
    tasks = [asyncio.create_task(first.run())]
    await until(lambda: running == ["first"])
    tasks.append(asyncio.create_task(second.run()))
    await asyncio.sleep(0.1)
    assert running == ["first"], "the second waits while the first holds the lock"
    assert (first.leading, second.leading) == (True, False)
    tasks[0].cancel()  # the first worker stops: its lock is released
    await until(lambda: running == ["second"])
    assert second.leading
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert running == []


async def until(condition: object, seconds: float = 5.0) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.01)
