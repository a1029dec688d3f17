from __future__ import annotations

from typing import Any

from domain.model.parking import Channel, ParkingSession, PaymentMethod, Spaces, VehicleClass, lot_id
from domain.ports import JSONValue, Projection
from domain.services.parking_projections import (
    CashlessShare,
    LotOccupancy,
    cashless_share_bps,
    occupancy_key,
    share_key,
)
from tests.support.views import FakeView
from tests.unit.parking.factories import DRIVER, HOUR, MIN, T0, arrival, registered_lot

LOT = lot_id("HK-01")


async def run(projection: Projection, events: list[Any]) -> dict[str, JSONValue]:
    view = FakeView()
    for event in events:
        await projection.apply(event, view)
    return view.rows


def day_of_parking() -> list[Any]:
    """Three cars and a motorbike come; two cars leave (cash, QR), then a wallet session ends for free."""
    lot = registered_lot()
    lot.change_spaces("B", VehicleClass.MOTORBIKE, Spaces(30), T0)
    events = list(lot.collect_events())
    schedule = lot.schedule("A", VehicleClass.CAR)
    sessions = [ParkingSession.start(lot, arrival(f"g{i}"), T0 + i * MIN)[0] for i in range(3)]
    sessions.append(ParkingSession.start(lot, arrival("m1", vehicle_class=VehicleClass.MOTORBIKE), T0)[0])
    app = ParkingSession.start(lot, arrival("app", channel=Channel.APP, driver_id=DRIVER), T0)[0]
    sessions[0].end(T0 + 2 * HOUR, schedule, PaymentMethod.CASH, Channel.ATTENDANT)  # 50,000
    sessions[1].end(T0 + 3 * HOUR, schedule, PaymentMethod.QR, Channel.ATTENDANT)  # 85,000
    app.end(T0 + 5 * MIN, schedule, PaymentMethod.WALLET, Channel.APP)  # within grace: free
    for aggregate in [*sessions, app]:
        events += aggregate.collect_events()
    return sorted(events, key=lambda e: e.timestamp)


async def test_occupancy_counts_vehicles_per_lot_zone_and_class() -> None:
    rows = await run(LotOccupancy(), day_of_parking())
    row = rows[occupancy_key(LOT)]
    assert row["code"] == "HK-01"
    assert row["zones"]["A"] == {
        "car": {"capacity": 50, "occupied": 1},
        "motorbike": {"capacity": 200, "occupied": 1},
    }
    assert row["zones"]["B"]["motorbike"] == {"capacity": 30, "occupied": 0}
    assert row["classes"] == {
        "car": {"capacity": 60, "occupied": 1},
        "motorbike": {"capacity": 230, "occupied": 1},
    }
    assert [k for k in rows if k.startswith("session:")] == [f"session:{s}" for s in _active(day_of_parking())]


async def test_cashless_share_counts_paid_sessions_by_how_they_were_paid() -> None:
    rows = await run(CashlessShare(), day_of_parking())
    expected = {"cash_count": 1, "cash_vnd": 50_000, "cashless_count": 1, "cashless_vnd": 85_000}
    assert rows[share_key(LOT)] == expected
    assert rows[share_key(LOT, "2025-03-03")] == expected
    assert cashless_share_bps(expected) == (5_000, 6_296)
    assert cashless_share_bps({"cash_count": 0, "cash_vnd": 0, "cashless_count": 0, "cashless_vnd": 0}) == (0, 0)


async def test_replaying_the_same_events_rebuilds_the_same_rows() -> None:
    events = day_of_parking()
    for projection in (LotOccupancy(), CashlessShare()):
        assert await run(projection, events) == await run(projection, events)


def _active(events: list[Any]) -> list[Any]:
    started = [e.originator_id for e in events if isinstance(e, ParkingSession.Started)]
    ended = {e.originator_id for e in events if isinstance(e, ParkingSession.Ended)}
    return [s for s in started if s not in ended]
