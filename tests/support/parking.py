"""A parking lot with the issue's tariffs, run through the use cases on a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.model.balances import Balance, BalanceView
from domain.model.ledger import PartyKind, bank_clearing, cash, payable, wallet
from domain.model.parking import Arrival, Channel, PaymentMethod, Spaces, Tariff, VehicleClass
from domain.services.balances import LedgerBalances, account_key
from domain.services.parking import (
    EndSession,
    RegisterLot,
    ScheduleTariff,
    StartSession,
    end_session,
    register_lot,
    schedule_tariff,
    start_session,
)
from domain.services.payments import CollectionAccount
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UseCase, execute
from ops.demo.parking import CAR_TARIFF_TERMS
from tests.support.wallets import top_up

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 on a Monday in Hà Nội
MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)
LOT = "HK-01"
OPERATOR = "op-hoankiem"
DRIVER = "driver-lan"
OPERATOR_PAYABLE = payable(PartyKind.OPERATOR, OPERATOR)
DRIVER_WALLET = wallet(DRIVER)
OPERATOR_CASH = cash(OPERATOR)
CITY = CollectionAccount("970415", "1140000077", "HA NOI PARKING")
CITY_BANK = bank_clearing(CITY.bank_bin, CITY.account_no)
CAR_TARIFF = CAR_TARIFF_TERMS  # the demo car park's, as the API takes it: one definition
MOTO_TARIFF = {
    "code": "moto-2025",
    "vehicle_class": "motorbike",
    "unit_minutes": 1440,
    "bands": [{"name": "all-day", "starts_at": "00:00", "steps": [{"from_hour": 1, "unit_vnd": 5_000}]}],
}


async def run(store: Any, use_case: UseCase) -> dict[str, Any]:
    return (await execute(store, use_case)).result


async def open_lot(store: Any, wallet_vnd: int = 500_000, since: datetime = T0 - timedelta(days=1)) -> None:
    """Zone A: 50 cars (2 reservable), 200 motorbikes, tariffs in force ``since`` (the day
    before T0); the driver's wallet topped up with ``wallet_vnd`` (500,000 VND by default)
    by QR bank transfer then."""
    zones = {"A": {VehicleClass.CAR: Spaces(50, 2), VehicleClass.MOTORBIKE: Spaces(200)}}
    await run(store, register_lot(RegisterLot(LOT, OPERATOR, "Lý Thái Tổ", zones, since)))
    for tariff in (CAR_TARIFF, MOTO_TARIFF):
        await run(store, schedule_tariff(ScheduleTariff(LOT, "A", Tariff.from_dict(tariff), since, since)))
    if wallet_vnd:
        await top_up(store, DRIVER, wallet_vnd, CITY, since)


def arrival(reference: str, **changes: Any) -> Arrival:
    fields: dict[str, Any] = {
        "reference": reference,
        "zone": "A",
        "vehicle_class": VehicleClass.CAR,
        "plate": "30A-123.45",
        "channel": Channel.GATE,
        "device_id": "gate-north",
    }
    return Arrival(**(fields | changes))


def app(reference: str, **changes: Any) -> Arrival:
    return arrival(reference, channel=Channel.APP, device_id=None, driver_id=DRIVER, prepay=True, **changes)


async def start(store: Any, entry: Arrival, at: datetime = T0) -> UUID:
    return UUID((await run(store, start_session(StartSession(LOT, entry, at))))["session_id"])


async def end(store: Any, session: UUID, at: datetime, method: PaymentMethod) -> dict[str, Any]:
    return await run(store, end_session(EndSession(session, method, Channel.GATE, at, device_id="gate-south")))


async def balances(store: Any, *accounts: str) -> dict[str, BalanceView]:
    await ProjectionRunner(store, store, LedgerBalances()).catch_up()
    rows = await store.get_rows(LedgerBalances.name, [account_key(a) for a in accounts])
    return {a: BalanceView.of(a, Balance.from_dict(rows.get(account_key(a)))) for a in accounts}


async def posted(store: Any, *accounts: str) -> dict[str, int]:
    return {a: view.posted_vnd for a, view in (await balances(store, *accounts)).items()}
