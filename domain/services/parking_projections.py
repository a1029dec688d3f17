"""Parking read models: occupancy per lot, and the cashless share per lot (and per day).

Both follow the global log through `ProjectionRunner` and are pure folds of parking
events, so replaying the log into empty rows rebuilds them exactly. Each keeps a small
``session:<id>`` row while a session is active, so that its end can be attributed to
the lot and class it started in (an `Ended` event does not repeat them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any
from uuid import UUID

from domain.model.parking.common import PaymentMethod
from domain.model.parking.lots import ParkingLot
from domain.model.parking.sessions import ParkingSession
from domain.model.parking.tariffs import VIETNAM_UTC_OFFSET_MINUTES
from domain.ports import Rows
from domain.services.projections import FoldsPages

LOCAL_OFFSET = timedelta(minutes=VIETNAM_UTC_OFFSET_MINUTES)  # the city counts its days in local time


def occupancy_key(lot: UUID) -> str:
    return f"occupancy:{lot}"


def share_key(lot: UUID, day: str | None = None) -> str:
    """The cashless share of a lot overall, or on one local day (``YYYY-MM-DD``)."""
    return f"share:{lot}" if day is None else f"share:{lot}:{day}"


class LotOccupancy(FoldsPages):
    """Row ``occupancy:<lot>``: ``{"code", "zones": {zone: {class: {"capacity", "occupied"}}},
    "classes": {class: {"capacity", "occupied"}}}``. ``occupied`` may exceed ``capacity``:
    sessions report vehicles that are there, and a full lot is a fact to show, not refuse."""

    name = "parking_occupancy"
    handles = (ParkingLot.Registered, ParkingLot.SpacesChanged, ParkingSession.Started, ParkingSession.Ended)

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            cls = type(event)
            if cls is ParkingLot.Registered:
                zones = {
                    zone: {vc: {"capacity": s["capacity"], "occupied": 0} for vc, s in classes.items()}
                    for zone, classes in event.zones.items()
                }
                rows[occupancy_key(event.originator_id)] = _with_totals({"code": event.code, "zones": zones})
            elif cls is ParkingLot.SpacesChanged:
                row = _row(rows, occupancy_key(event.originator_id))
                cell = row["zones"][event.zone].setdefault(event.vehicle_class, {"capacity": 0, "occupied": 0})
                cell["capacity"] = event.capacity
                rows[occupancy_key(event.originator_id)] = _with_totals(row)
            elif cls is ParkingSession.Started:
                place = {"lot": str(event.lot_id), "zone": event.zone, "vehicle_class": event.vehicle_class}
                rows[f"session:{event.originator_id}"] = place
                _count(rows, place, +1)
            elif cls is ParkingSession.Ended:
                place = _row(rows, f"session:{event.originator_id}")
                _count(rows, place, -1)
                rows.pop(f"session:{event.originator_id}", None)


def _row(rows: Rows, key: str) -> Any:
    row = rows.get(key)
    assert row is not None, f"{key} is written by an earlier event of the same stream"
    return row


def _count(rows: Rows, place: dict[str, str], step: int) -> None:
    key = occupancy_key(UUID(place["lot"]))
    row = _row(rows, key)
    cell = row["zones"][place["zone"]][place["vehicle_class"]]
    cell["occupied"] += step
    rows[key] = _with_totals(row)


def _with_totals(row: dict[str, Any]) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = {}
    for classes in row["zones"].values():
        for vehicle_class, cell in classes.items():
            total = totals.setdefault(vehicle_class, {"capacity": 0, "occupied": 0})
            total["capacity"] += cell["capacity"]
            total["occupied"] += cell["occupied"]
    row["classes"] = totals
    return row


EMPTY_SHARE = {"cash_count": 0, "cash_vnd": 0, "cashless_count": 0, "cashless_vnd": 0}


class CashlessShare(FoldsPages):
    """Rows ``share:<lot>`` and ``share:<lot>:<local day>``: paid sessions (fee above 0) by
    cash and cashless (wallet or QR), as counts and amounts. A QR session counts when it
    ends with its amount due: the share measures how drivers chose to pay."""

    name = "parking_cashless_share"
    handles = (ParkingSession.Started, ParkingSession.Ended)

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            if type(event) is ParkingSession.Started:
                rows[f"session:{event.originator_id}"] = str(event.lot_id)
                continue
            lot = UUID(_row(rows, f"session:{event.originator_id}"))
            rows.pop(f"session:{event.originator_id}", None)
            if event.fee_vnd == 0:
                continue
            side = "cashless" if PaymentMethod(event.payment_method).cashless else "cash"
            day = (event.ended_at.astimezone(UTC) + LOCAL_OFFSET).date().isoformat()
            for key in (share_key(lot), share_key(lot, day)):
                row = dict(rows.get(key) or EMPTY_SHARE)
                row[f"{side}_count"] += 1
                row[f"{side}_vnd"] += event.fee_vnd
                rows[key] = row


def cashless_share_bps(row: dict[str, int]) -> tuple[int, int]:
    """The cashless share of a row in basis points, by count and by amount (0 when nothing
    was paid). Integers, like every figure derived from money here."""
    count = row["cash_count"] + row["cashless_count"]
    amount = row["cash_vnd"] + row["cashless_vnd"]
    return (
        row["cashless_count"] * 10_000 // count if count else 0,
        row["cashless_vnd"] * 10_000 // amount if amount else 0,
    )
