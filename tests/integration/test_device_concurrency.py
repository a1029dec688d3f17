"""Two gates of one lot sending batches at the same time, from two service processes
(two stores on one database, each with its own cache): no entry, exit or occupancy
change is lost, a car both gates read at once is settled by the optimistic retry, and
nothing is applied twice."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest

from domain.model.devices import EventKind, PlatePresence, presence_id
from domain.model.parking import ParkingSession, SessionStatus, VehicleClass, lot_id
from domain.services.devices import ingestion_cache
from domain.services.parking_projections import LotOccupancy, occupancy_key
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork
from tests.support.devices import NORTH, SOUTH, by_id, open_gates, read, send
from tests.support.parking import HOUR, LOT, MIN, T0, open_lot

pytestmark = pytest.mark.usefixtures("backend")
CARS = 40


async def occupied(store: Any) -> int:
    await ProjectionRunner(store, store, LotOccupancy()).catch_up()
    rows = await store.get_rows(LotOccupancy.name, [occupancy_key(lot_id(LOT))])
    return int(rows[occupancy_key(lot_id(LOT))]["zones"]["A"][VehicleClass.CAR.value]["occupied"])


async def test_two_gates_at_once_lose_no_entry_nor_exit(store: Any, open_store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    other = await open_store()
    north = [f"29A-{n:03d}.11" for n in range(100, 100 + CARS)]
    south = [f"30A-{n:03d}.22" for n in range(100, 100 + CARS)]

    def entries(plates: list[str]) -> list[Any]:
        return [read(i + 1, EventKind.ENTRY, T0 + i * MIN, p) for i, p in enumerate(plates)]

    answers = await asyncio.gather(
        send(store, NORTH, entries(north), cache=ingestion_cache()),
        send(other, SOUTH, entries(south), cache=ingestion_cache()),
    )
    assert [a["accepted"] for a in answers] == [CARS, CARS]
    assert await occupied(store) == 2 * CARS

    # Each gate lets out the cars the other let in, both at once.
    def exits(plates: list[str]) -> list[Any]:
        return [read(CARS + i + 1, EventKind.EXIT, T0 + 3 * HOUR + i * MIN, p) for i, p in enumerate(plates)]

    left = await asyncio.gather(send(store, NORTH, exits(south)), send(other, SOUTH, exits(north)))
    assert [a["accepted"] for a in left] == [CARS, CARS]
    assert all("anomaly" not in e for a in left for e in a["events"])
    assert await occupied(store) == 0


async def test_one_car_read_by_both_gates_at_once_is_settled_by_a_retry(store: Any, open_store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    await open_gates(store)
    other = await open_store()
    plate = "29A-555.55"
    answers = await asyncio.gather(
        send(store, NORTH, [read(1, EventKind.ENTRY, T0, plate)], cache=ingestion_cache()),
        send(other, SOUTH, [read(1, EventKind.ENTRY, T0 + MIN, plate)], cache=ingestion_cache()),
    )
    outcomes = [by_id(a)["ev-1"] for a in answers]
    assert [o["status"] for o in outcomes] == ["accepted", "accepted"]
    # Both reads started a session (two gates, two reports); the presence names exactly
    # one of them, and the other read is flagged: the car was already inside.
    assert sorted(o.get("anomaly", "") for o in outcomes) == ["", "entry_while_present"]
    uow = UnitOfWork(store)
    presence = await uow.get(PlatePresence, presence_id(lot_id(LOT), plate))
    sessions = [await uow.get(ParkingSession, UUID(o["session_id"])) for o in outcomes]
    assert all(s.status is SessionStatus.ACTIVE for s in sessions)
    assert presence.session_id in {s.id for s in sessions}
    assert await occupied(store) == 2
