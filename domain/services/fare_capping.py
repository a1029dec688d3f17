"""Pay-as-you-go riding with a daily fare cap: the tap use case.

Each charged tap posts wallet(rider) → payable(operator of the vehicle) in the same unit
of work as the rider day's `Tapped` event and the rider's `Wallet` debit; a tap the
wallet cannot cover is refused (`InsufficientFunds`) and records nothing, not even the
tap. A tap charged 0 (the cap is reached) posts nothing. The transfer's cause names the
rider day and the tap's number, so two racing taps derive the same transfer id: one
wins, the other is retried on fresh state.

Anti-passback spans service days: a tap near the start of a service day (closer than
the fare's passback window) is also noted in that boundary's `DayBoundary`, in the same
unit of work, which refuses it when the rider tapped the same vehicle just across the
boundary, whichever tap arrived first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.model.ledger import credit, debit, wallet
from domain.model.tickets import PAYG_FARES, PaygFare, RiderDay, find_fare, rider_day_id, service_day
from domain.model.tickets.boundary import DayBoundary, boundaries_near, day_boundary_id
from domain.model.tickets.service_day import checked_id
from domain.model.transfers import Transfer
from domain.services.tickets import operator_account
from domain.services.unit_of_work import UnitOfWork, UseCase
from domain.services.wallets import guard_transfer


def tap_pay_as_you_go(
    *,
    rider_id: str,
    fare_code: str,
    vehicle_id: str,
    operator_id: str,
    at: datetime,
    fares: Mapping[str, PaygFare] = PAYG_FARES,
) -> UseCase:
    """Charge one pay-as-you-go ride, capped per service day.

    ``fare_code`` (the rider's fare table, e.g. a student's) counts only on the day's
    first tap; the rest of the day keeps that table, so the cap cannot shift mid-day.
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        day_id = rider_day_id(checked_id(rider_id, name="rider_id"), service_day(at))
        day = await uow.find(RiderDay, day_id)
        if day is None:
            day = RiderDay.open(rider_id, find_fare(fare_code, fares), at)
            uow.add(day)
        charged_vnd = day.tap(vehicle_id, operator_id, at)
        await _note_near_boundaries(uow, day, vehicle_id, at)
        if charged_vnd:
            fare = Transfer.post(
                f"payg:{day.id}:tap:{day.taps}",
                "payg.fare",
                [debit(wallet(rider_id), charged_vnd), credit(operator_account(operator_id), charged_vnd)],
                at,
            )
            await guard_transfer(uow, fare, at)
            uow.add(fare)
        return {
            "rider_day_id": str(day.id),
            "service_date": day.service_date.isoformat(),
            "fare_code": day.fare.code,
            "tap_no": day.taps,
            "charged_vnd": charged_vnd,
            "charged_today_vnd": day.charged_vnd,
            "daily_cap_vnd": day.fare.daily_cap_vnd,
            "capped": day.capped,
        }

    return use_case


async def _note_near_boundaries(uow: UnitOfWork, day: RiderDay, vehicle_id: str, at: datetime) -> None:
    """Note the tap at each service-day start it is within the passback window of."""
    for boundary_day in boundaries_near(at, day.passback):
        boundary = await uow.find(DayBoundary, day_boundary_id(day.rider_id, boundary_day))
        if boundary is None:
            boundary = DayBoundary.open(day.rider_id, boundary_day, at)
            uow.add(boundary)
        boundary.note(vehicle_id, at, day.fare.passback_minutes)
