"""Batches claim the postings they pay: a cut-off change or a negative day pays nothing twice and nothing never."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.model.errors import InvalidTransition
from domain.model.ledger import PartyKind, payable
from domain.services.fees import refund_fee_invoice
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.pain001 import BankAccount
from settlement.payouts.use_cases import close_settlement_batch
from tests.support.catalogue import TREASURY
from tests.support.ledger import posted_balances
from tests.support.settlement import AGENCY_ACCOUNT, claim_for, collect, payee_directory, settle_day

D = date(2026, 11, 23)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")
CALENDAR = SettlementCalendar()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), VIETNAM_TZ).astimezone(UTC)


async def _collect(store_url: str, *collections: tuple[str, datetime]) -> None:
    store = await open_store(Config(store_url=store_url))
    try:
        for no, at in collections:
            await collect(store, no, "counter", at)
    finally:
        await store.close()


async def _owed(store_url: str) -> int:
    store = await open_store(Config(store_url=store_url))
    try:
        return (await posted_balances(store, AGENCY))[AGENCY]
    finally:
        await store.close()


async def test_changing_the_cutoff_pays_each_collection_once(store_url: str, tmp_path: Path) -> None:
    await _collect(store_url, ("HS-10", local(D, 10)), ("HS-2330", local(D, 23, 30)))
    directory = payee_directory(tmp_path / "payees.json", {AGENCY: AGENCY_ACCOUNT})
    first = await settle_day(store_url, directory, D, time(23, 0))
    again = await settle_day(store_url, directory, D, time(23, 59))
    next_day = await settle_day(store_url, directory, D + timedelta(days=1), time(23, 0))
    paid = [run["total_vnd"] for run in (first, again, next_day)]
    assert paid == [200_000, 200_000, 0]  # the 23:30 collection is paid by whichever batch claims it first
    assert await _owed(store_url) == 0


async def test_a_later_day_closed_first_leaves_nothing_for_the_earlier_one(store_url: str, tmp_path: Path) -> None:
    await _collect(store_url, ("HS-A", local(D, 9)), ("HS-B", local(D + timedelta(days=1), 9)))
    directory = payee_directory(tmp_path / "payees.json", {AGENCY: AGENCY_ACCOUNT})
    later = await settle_day(store_url, directory, D + timedelta(days=1))
    earlier = await settle_day(store_url, directory, D)
    assert (later["total_vnd"], earlier["total_vnd"]) == (400_000, 0)
    assert await _owed(store_url) == 0


async def test_a_negative_day_carries_into_the_next_batch(store_url: str, tmp_path: Path) -> None:
    directory = payee_directory(tmp_path / "payees.json", {AGENCY: AGENCY_ACCOUNT})
    await _collect(store_url, ("HS-0", local(D, 9)))
    assert (await settle_day(store_url, directory, D))["total_vnd"] == 200_000
    store = await open_store(Config(store_url=store_url))
    try:
        await execute(
            store, refund_fee_invoice("HS-0", 200_000, "service not delivered", local(D + timedelta(days=1), 9))
        )
    finally:
        await store.close()
    day1 = await settle_day(store_url, directory, D + timedelta(days=1))
    assert day1["total_vnd"] == 0
    await _collect(store_url, ("HS-2", local(D + timedelta(days=2), 9)), ("HS-3", local(D + timedelta(days=2), 10)))
    day2 = await settle_day(store_url, directory, D + timedelta(days=2))
    assert day2["total_vnd"] == 200_000  # 400,000 collected less the 200,000 carried from day 1
    assert await _owed(store_url) == 0
    assert day1["carried"] == [{"payee_account": AGENCY, "net_vnd": -200_000}]  # recorded in the settle output
    assert day2["batches"][0]["earlier_vnd"] == -200_000  # and in the batch that nets it


async def test_two_closes_that_read_the_same_postings_pay_them_once(store: Any) -> None:
    await collect(store, "HS-R", "counter", local(D, 23, 30))
    late_cutoff = SettlementCalendar(cutoff=time(23, 59))
    under_late_cutoff = await claim_for(store, AGENCY, D, late_cutoff)
    next_day = await claim_for(store, AGENCY, D + timedelta(days=1))
    assert under_late_cutoff.postings == next_day.postings  # both would pay the 23:30 collection
    paying = BankAccount(TREASURY.bank_bin, TREASURY.account_no, TREASURY.name)
    at = local(D + timedelta(days=3), 9)
    await execute(
        store, close_settlement_batch(claim=next_day, calendar=CALENDAR, paying_account=paying, closed_by="a", at=at)
    )
    with pytest.raises(InvalidTransition, match="stale"):
        await execute(
            store,
            close_settlement_batch(
                claim=under_late_cutoff, calendar=late_cutoff, paying_account=paying, closed_by="b", at=at
            ),
        )
    assert (await claim_for(store, AGENCY, D, late_cutoff)).postings == ()
    assert (await posted_balances(store, AGENCY))[AGENCY] == 0
