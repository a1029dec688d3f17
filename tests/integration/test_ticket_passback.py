"""Pay-as-you-go anti-passback through the tap use case, on both stores: a window in time per
vehicle, across the start of a service day and whatever order offline validators upload in."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.postgres import PostgresEventStore
from adapters.eventstore.sqlite import SqliteEventStore
from domain.model.ledger import PartyKind, payable, wallet
from domain.model.tickets import PAYG_FARES, RefusalReason, TicketRefused
from domain.services.fare_capping import tap_pay_as_you_go
from domain.services.payments import CollectionAccount
from domain.services.unit_of_work import UseCase, execute
from tests.support import wallets
from tests.support.ledger import posted_balances

DAY_STARTS = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)  # 03:00 on 10 March in Hanoi: service day 10 March begins
WINDOW = timedelta(minutes=PAYG_FARES["PAYG"].passback_minutes)
FARE_VND = PAYG_FARES["PAYG"].fare_vnd
TRANSIT = CollectionAccount("970415", "1140000088", "CITY TRANSIT")
TOP_UP_VND = 200_000


def tap(rider: str, vehicle: str, at: datetime) -> UseCase:
    return tap_pay_as_you_go(rider_id=rider, fare_code="PAYG", vehicle_id=vehicle, operator_id="transerco", at=at)


async def charged(store: Any, rider: str, vehicle: str, at: datetime) -> int | None:
    """What the tap cost, or ``None`` when it was refused for passback."""
    try:
        return int((await execute(store, tap(rider, vehicle, at))).result["charged_vnd"])
    except TicketRefused as refused:
        if refused.reason is not RefusalReason.PASSBACK:
            raise
        return None


async def spent(store: Any, rider: str) -> int:
    balances = await posted_balances(store, wallet(rider))
    return TOP_UP_VND - balances[wallet(rider)]


@pytest.mark.parametrize("late_first", [False, True], ids=["in-order", "late-upload"])
async def test_a_double_tap_across_the_start_of_a_service_day_is_charged_once(store: Any, late_first: bool) -> None:
    await wallets.top_up(store, "rider-lan", TOP_UP_VND, TRANSIT, DAY_STARTS - timedelta(hours=1))
    before, after = DAY_STARTS - timedelta(seconds=10), DAY_STARTS + timedelta(seconds=10)  # 02:59:50, 03:00:10
    first, second = (after, before) if late_first else (before, after)
    assert await charged(store, "rider-lan", "bus-32", first) == FARE_VND
    assert await charged(store, "rider-lan", "bus-32", second) is None
    assert await charged(store, "rider-lan", "bus-33", second) == FARE_VND  # another bus: a real ride
    assert await spent(store, "rider-lan") == 2 * FARE_VND


async def test_a_late_offline_tap_is_not_charged_after_a_later_tap_on_another_bus(store: Any) -> None:
    await wallets.top_up(store, "rider-lan", TOP_UP_VND, TRANSIT, DAY_STARTS)
    ten = DAY_STARTS + timedelta(hours=7)  # 10:00 in Hanoi
    assert await charged(store, "rider-lan", "bus-v", ten) == FARE_VND
    assert await charged(store, "rider-lan", "bus-w", ten + timedelta(minutes=30)) == FARE_VND
    assert await charged(store, "rider-lan", "bus-v", ten + timedelta(minutes=5)) is None  # uploaded late
    assert await spent(store, "rider-lan") == 2 * FARE_VND


async def test_racing_taps_across_the_start_of_a_service_day_are_charged_once(store: Any) -> None:
    await wallets.top_up(store, "rider-lan", TOP_UP_VND, TRANSIT, DAY_STARTS - timedelta(hours=1))
    moments = (DAY_STARTS - timedelta(seconds=10), DAY_STARTS + timedelta(seconds=10))
    results = await asyncio.gather(*(charged(store, "rider-lan", "bus-32", at) for at in moments))
    assert sorted(results, key=str) == [FARE_VND, None]
    assert await spent(store, "rider-lan") == FARE_VND


async def _open(store_url: str) -> Any:
    if store_url.startswith("sqlite"):
        return await SqliteEventStore.open(store_url, codec=CodecOptions())
    return await PostgresEventStore.open(store_url, codec=CodecOptions())


async def _ride(store_url: str, taps: list[tuple[str, int]]) -> None:
    """Run the taps (vehicle, seconds from the service day's start) in the given order, as a
    fresh rider, and check what was charged."""
    store = await _open(store_url)
    try:
        rider = f"rider-{uuid.uuid4().hex[:12]}"
        await wallets.top_up(store, rider, TOP_UP_VND, TRANSIT, DAY_STARTS - timedelta(hours=2))
        accepted: list[tuple[str, datetime]] = []
        total_vnd = 0
        for vehicle, second in taps:
            at = DAY_STARTS + timedelta(seconds=second)
            cost = await charged(store, rider, vehicle, at)
            if cost is None:
                assert any(v == vehicle and abs(at - t) < WINDOW for v, t in accepted), "refused without cause"
                continue
            assert all(abs(at - t) >= WINDOW for v, t in accepted if v == vehicle), "charged within the window"
            accepted.append((vehicle, at))
            total_vnd += cost
        assert await spent(store, rider) == total_vnd
        operator = payable(PartyKind.OPERATOR, "transerco")
        assert (await posted_balances(store, operator))[operator] >= total_vnd
    finally:
        await store.close()


# Taps on two buses within 40 minutes either side of 03:00, where two service days meet.
boundary_taps = st.lists(
    st.tuples(st.sampled_from(["bus-1", "bus-2"]), st.integers(-40 * 60, 40 * 60)), min_size=1, max_size=12
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(taps=boundary_taps, order=st.randoms(use_true_random=False))
def test_in_any_arrival_order_no_two_charged_taps_on_a_vehicle_are_within_the_window(
    store_url: str, taps: list[tuple[str, int]], order: random.Random
) -> None:
    # The store URL is shared by all examples; each example rides as a new rider.
    order.shuffle(taps)
    asyncio.run(_ride(store_url, taps))
