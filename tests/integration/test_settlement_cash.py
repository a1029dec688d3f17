"""Cash collected by attendants is paid to the operator once it has reached the bank."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.model.errors import InvalidTransition
from domain.model.parking import PaymentMethod
from domain.services.cash_deposits import RecordCashDeposit, record_cash_deposit
from ops.config import Config
from ops.stores import open_store
from settlement.payouts.calendar import VIETNAM_TZ
from settlement.reconciliation.ledger_side import read_ledger_side
from tests.support.parking import (
    CITY,
    CITY_BANK,
    HOUR,
    MIN,
    OPERATOR,
    OPERATOR_CASH,
    OPERATOR_PAYABLE,
    T0,
    app,
    arrival,
    end,
    open_lot,
    posted,
    run,
    start,
)
from tests.support.settlement import OPERATOR_ACCOUNT, payee_directory, settle_day

DAY = T0.astimezone(VIETNAM_TZ).date()


def deposit(slip_no: str, amount_vnd: int, days_later: int) -> Any:
    at = T0 + timedelta(days=days_later, hours=2)
    return record_cash_deposit(RecordCashDeposit(OPERATOR, slip_no, amount_vnd, CITY, at, "thu-quy.le", at))


async def _in_store(store_url: str, *use_cases: Any) -> dict[str, int]:
    store = await open_store(Config(store_url=store_url))
    try:
        for use_case in use_cases:
            await run(store, use_case)
        return await posted(store, OPERATOR_PAYABLE, OPERATOR_CASH, CITY_BANK)
    finally:
        await store.close()


async def _day_of_parking(store_url: str) -> None:
    store = await open_store(Config(store_url=store_url))
    try:
        await open_lot(store)
        by_cash = await start(store, arrival("gate-1"))
        await end(store, by_cash, T0 + 2 * HOUR + MIN, PaymentMethod.CASH)  # 85,000 in the attendant's bag
        by_wallet = await start(store, app("app-1", expected_end=T0 + HOUR))
        await end(store, by_wallet, T0 + 50 * MIN, PaymentMethod.WALLET)  # 25,000 captured from the hold
    finally:
        await store.close()


def not_banked(day: date, collected: int, still_out: int) -> dict[str, Any]:
    return {"operator_id": OPERATOR, "day": day.isoformat(), "collected_vnd": collected, "not_banked_vnd": still_out}


async def test_cash_is_paid_to_the_operator_as_it_reaches_the_bank(store_url: str, tmp_path: Path) -> None:
    await _day_of_parking(store_url)
    directory = payee_directory(tmp_path / "payees.json", {OPERATOR_PAYABLE: OPERATOR_ACCOUNT})
    first = await settle_day(store_url, directory, DAY)
    assert first["total_vnd"] == 25_000  # the wallet fee; the cash is still with the attendants
    assert first["cash_not_banked"] == [not_banked(DAY, 85_000, 85_000)]
    assert first["batches"][0]["cash_held_vnd"] == 85_000

    await _in_store(store_url, deposit("NT-0001", 60_000, 1))  # the attendant paid in less than collected
    second = await settle_day(store_url, directory, DAY + timedelta(days=1))
    assert (second["total_vnd"], second["cash_not_banked"]) == (60_000, [not_banked(DAY, 85_000, 25_000)])

    balances = await _in_store(store_url, deposit("NT-0002", 25_000, 2))
    third = await settle_day(store_url, directory, DAY + timedelta(days=2))
    assert (third["total_vnd"], third["cash_not_banked"]) == (25_000, [])
    assert balances[OPERATOR_CASH] == 0
    assert (await _in_store(store_url))[OPERATOR_PAYABLE] == 0  # paid all it is owed, once


async def test_a_deposit_is_recorded_once_and_matched_on_the_statement_by_its_slip(store: Any) -> None:
    first = await run(store, deposit("NT-0009", 50_000, 0))
    assert await run(store, deposit("NT-0009", 50_000, 0)) == first  # a retry changes nothing
    with pytest.raises(InvalidTransition, match="other facts"):
        await run(store, deposit("NT-0009", 55_000, 0))
    assert await posted(store, OPERATOR_CASH, CITY_BANK) == {OPERATOR_CASH: -50_000, CITY_BANK: 50_000}
    side = await read_ledger_side(store, first_day=DAY, last_day=DAY)
    (item,) = side.items
    assert (item.amount_minor, item.direction.value, item.payment_reference) == (50_000, "CRDT", "NT-0009")
