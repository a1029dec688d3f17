"""Projections follow the log exactly once; the schema is created and migrated by the adapter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eventsourcing.domain import DomainEventProtocol

from adapters.eventstore import postgres, sqlite
from domain.ports import ProjectionView, TrackingConflict
from domain.services.projections import ProjectionRunner
from tests.conftest import StoreFactory
from tests.support.aggregates import Wallet
from tests.support.old_store import append_by_sql


class BalancesByOwner:
    """Sums credits per owner; counts every event it sees (to catch double effects)."""

    name = "balances_by_owner"

    def __init__(self, fail_at_owner: str | None = None) -> None:
        self.fail_at_owner = fail_at_owner

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if isinstance(event, Wallet.Opened):
            if event.owner == self.fail_at_owner:
                raise RuntimeError("projection crashed")
            view.put(f"wallet:{event.originator_id}", event.owner)
            owner_row = await view.get(f"owner:{event.owner}") or {"balance_vnd": 0, "events": 0}
            owner_row["events"] += 1
            view.put(f"owner:{event.owner}", owner_row)
        elif isinstance(event, Wallet.Credited):
            owner = await view.get(f"wallet:{event.originator_id}")
            row = await view.get(f"owner:{owner}")
            assert row is not None
            row["balance_vnd"] += event.amount_vnd
            row["events"] += 1
            view.put(f"owner:{owner}", row)


async def seed(store: Any, owners: list[str], credits: int) -> None:
    for owner in owners:
        wallet = Wallet(owner)
        for i in range(credits):
            wallet.credit(1_000 * (i + 1))
        await store.append(wallet.collect_events())


async def test_projection_catches_up_in_pages(store: Any) -> None:
    await seed(store, ["an", "binh", "an"], credits=3)
    runner = ProjectionRunner(store, store, BalancesByOwner(), page_size=5)
    assert await runner.catch_up() == 12
    rows = await store.get_rows("balances_by_owner", ["owner:an", "owner:binh"])
    assert rows == {
        "owner:an": {"balance_vnd": 12_000, "events": 8},
        "owner:binh": {"balance_vnd": 6_000, "events": 4},
    }
    assert await store.tracking_position("balances_by_owner") == 12


async def test_crash_mid_page_writes_nothing_and_restart_is_exactly_once(store: Any) -> None:
    await seed(store, ["an", "binh"], credits=2)
    await seed(store, ["crash"], credits=0)
    await seed(store, ["an"], credits=1)

    crashing = ProjectionRunner(store, store, BalancesByOwner(fail_at_owner="crash"), page_size=4)
    with pytest.raises(RuntimeError):
        await crashing.catch_up()
    assert await store.tracking_position("balances_by_owner") == 4  # first page only
    half = await store.get_rows("balances_by_owner", ["owner:an", "owner:binh"])
    assert half == {"owner:an": {"balance_vnd": 3_000, "events": 3}, "owner:binh": {"balance_vnd": 0, "events": 1}}

    healed = ProjectionRunner(store, store, BalancesByOwner(), page_size=4)
    await healed.catch_up()
    rows = await store.get_rows("balances_by_owner", ["owner:an", "owner:binh", "owner:crash"])
    assert rows["owner:an"] == {"balance_vnd": 4_000, "events": 5}
    assert rows["owner:binh"] == {"balance_vnd": 3_000, "events": 3}
    assert rows["owner:crash"] == {"balance_vnd": 0, "events": 1}


async def test_racing_runners_cannot_both_commit_a_page(store: Any) -> None:
    await seed(store, ["an"], credits=1)
    await store.commit_projection("p", 0, 1, {"a": 1})
    with pytest.raises(TrackingConflict):
        await store.commit_projection("p", 0, 2, {"a": 2})
    assert await store.get_rows("p", ["a"]) == {"a": 1}


async def test_rows_can_be_deleted(store: Any) -> None:
    await store.commit_projection("p", 0, 1, {"a": 1, "b": [1, 2]})
    await store.commit_projection("p", 1, 2, {"a": None})
    assert await store.get_rows("p", ["a", "b"]) == {"b": [1, 2]}


async def test_runner_follows_new_appends_live(store: Any) -> None:
    runner = ProjectionRunner(store, store, BalancesByOwner(), idle_wait_s=5)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_forever(stop))
    await seed(store, ["live"], credits=1)
    for _ in range(200):
        if await store.tracking_position("balances_by_owner") == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await store.append(Wallet("wake").collect_events())  # wakes the runner so it sees stop
    await asyncio.wait_for(task, 5)
    assert (await store.get_rows("balances_by_owner", ["owner:live"]))["owner:live"]["balance_vnd"] == 1_000


async def test_schema_migrates_from_an_older_version(open_store: StoreFactory, backend: str, store_url: str) -> None:
    module: Any = sqlite if backend == "sqlite" else postgres
    old = await open_store(migrations=module.MIGRATIONS[:1])
    assert await old.schema_version() == 1
    before = Wallet("before").collect_events()
    if backend == "postgres":  # the append function arrives with schema 4
        await append_by_sql(store_url, before)
    else:
        await old.append(before)
    await old.close()

    new = await open_store()
    assert await new.schema_version() == len(module.MIGRATIONS)
    assert len(await new.read_log(0, 10)) == 1
    await new.commit_projection("p", 0, 1, {"k": "v"})
    again = await open_store()
    assert await again.schema_version() == len(module.MIGRATIONS)


async def test_all_rows_of_a_projection_in_key_order(store: Any) -> None:
    await store.commit_projection("p", 0, 1, {"b": {"n": 2}, "a": [1], "c": "x"})
    await store.commit_projection("other", 0, 1, {"z": 1})
    await store.commit_projection("p", 1, 2, {"c": None})
    assert await store.all_rows("p") == {"a": [1], "b": {"n": 2}}
    assert list(await store.all_rows("p")) == ["a", "b"]
    assert await store.all_rows("nothing") == {}


async def test_runner_stops_at_the_position_it_is_given(store: Any) -> None:
    await seed(store, ["an"], credits=4)  # positions 1..5
    runner = ProjectionRunner(store, store, BalancesByOwner(), page_size=2)
    assert await runner.catch_up(until=3) == 3
    assert await store.tracking_position("balances_by_owner") == 3
    assert await runner.catch_up() == 5


async def test_two_runners_of_one_projection_share_the_work_exactly_once(store: Any) -> None:
    await seed(store, ["an", "binh", "chi", "dung"], credits=5)  # 24 events
    first = ProjectionRunner(store, store, BalancesByOwner(), page_size=3)
    second = ProjectionRunner(store, store, BalancesByOwner(), page_size=3)
    await asyncio.gather(first.catch_up(), second.catch_up())
    rows = await store.get_rows("balances_by_owner", ["owner:an", "owner:dung"])
    assert rows["owner:an"] == {"balance_vnd": 15_000, "events": 6}
    assert rows["owner:dung"] == {"balance_vnd": 15_000, "events": 6}
    assert await store.tracking_position("balances_by_owner") == 24
