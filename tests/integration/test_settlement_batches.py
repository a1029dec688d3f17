"""A day of fee collections settled to the agency, through the use cases, on both stores."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, bank_clearing, payable
from domain.services.fees import refund_fee_invoice
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.claims import Claim
from settlement.payouts.pain001 import BankAccount
from settlement.payouts.use_cases import close_settlement_batch
from tests.support.catalogue import TREASURY
from tests.support.ledger import posted_balances
from tests.support.settlement import AGENCY_ACCOUNT, claim_for, collect, payee_directory

DAY = date(2026, 11, 23)
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hanoi
NEXT_MORNING = MORNING + timedelta(days=1)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")
PAYING = BankAccount(TREASURY.bank_bin, TREASURY.account_no, TREASURY.name)
CALENDAR = SettlementCalendar()


async def payable_day(store: Any, payee: str, business_date: date) -> Claim:
    return await claim_for(store, payee, business_date, CALENDAR)


def close(claim: Claim, at: datetime = NEXT_MORNING) -> Any:
    return close_settlement_batch(
        claim=claim,
        calendar=CALENDAR,
        paying_account=PAYING,
        closed_by="ketoan.nguyen",
        at=at,
    )


async def test_a_day_is_collected_settled_and_paid_out(store: Any) -> None:
    await collect(store, "HS-1", "counter", MORNING)
    await collect(store, "HS-2", "online", MORNING + timedelta(hours=1))
    await collect(store, "HS-3", "vneid", MORNING + timedelta(hours=2))
    await execute(store, refund_fee_invoice("HS-1", 50_000, "partly not delivered", MORNING + timedelta(hours=3)))

    claim = await payable_day(store, AGENCY, DAY)
    figures = claim.figures
    assert (figures.gross_vnd, figures.subsidy_vnd, figures.refunds_vnd) == (300_000, 300_000, 50_000)
    assert (figures.net_vnd, len(claim.postings), claim.earlier_vnd) == (550_000, 5, 0)

    with pytest.raises(InvalidValue, match="still open"):
        await execute(store, close(claim, at=MORNING + timedelta(hours=5)))
    batch = (await execute(store, close(claim))).result
    assert (batch["net_vnd"], batch["sequence"], batch["payout_date"]) == (550_000, 1, "2026-11-24")
    assert (batch["claimed_postings"], batch["book_entry"]) == (5, 1)

    assert (await payable_day(store, AGENCY, DAY)).postings == ()
    bank = bank_clearing(TREASURY.bank_bin, TREASURY.account_no)
    assert await posted_balances(store, AGENCY, bank) == {AGENCY: 0, bank: 300_000 - 550_000}


async def test_late_collections_for_a_closed_day_go_in_a_second_batch(store: Any) -> None:
    await collect(store, "HS-4", "counter", MORNING)
    await execute(store, close(await payable_day(store, AGENCY, DAY)))
    await collect(store, "HS-5", "counter", MORNING + timedelta(hours=4))  # booked for DAY, arrived after close
    second = (await execute(store, close(await payable_day(store, AGENCY, DAY)))).result
    assert (second["sequence"], second["net_vnd"]) == (2, 200_000)
    with pytest.raises(InvalidValue, match="nothing to pay"):
        await execute(store, close(await payable_day(store, AGENCY, DAY)))


def _settle(store_url: str, directory: Path, out: str) -> subprocess.CompletedProcess[str]:
    common = ("--date", DAY.isoformat(), "--payees", str(directory), "--by", "ketoan.nguyen", "--store", store_url)
    return _settle_cli(*common, "--out", out)


def _settle_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", "settle", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


async def test_settle_command_closes_the_day_and_writes_a_valid_payout_file(store_url: str, tmp_path: Path) -> None:
    store = await open_store(Config(store_url=store_url))
    try:
        await collect(store, "HS-S1", "counter", MORNING)
        await collect(store, "HS-S2", "online", MORNING + timedelta(hours=1))
    finally:
        await store.close()
    directory = payee_directory(tmp_path / "payees.json", {})
    refused = _settle(store_url, directory, str(tmp_path / "p.xml"))
    assert refused.returncode == 2
    assert "no bank account on file for payable:agency:so-tu-phap" in refused.stderr
    assert not (tmp_path / "p.xml").exists()

    payee_directory(directory, {AGENCY: AGENCY_ACCOUNT})
    unwritable = _settle(store_url, directory, str(tmp_path / "missing-dir" / "p.xml"))
    assert unwritable.returncode == 2
    assert "cannot write the payout file" in unwritable.stderr
    done = _settle(store_url, directory, str(tmp_path / "p.xml"))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["total_vnd"] == 200_000 + 100_000 + 100_000  # counter fee + online payer part + subsidy
    document = etree.parse(str(tmp_path / "p.xml"))
    schema = etree.XMLSchema(etree.parse(str(resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd")))
    schema.assertValid(document)
    again = _settle(store_url, directory, str(tmp_path / "q.xml"))
    assert json.loads(again.stdout)["batches"] == []
    assert not (tmp_path / "q.xml").exists()


async def test_closing_twice_with_the_same_figures_pays_once(store: Any) -> None:
    await collect(store, "HS-D1", "counter", MORNING)
    claim = await payable_day(store, AGENCY, DAY)
    await execute(store, close(claim))
    with pytest.raises(InvalidTransition, match="stale"):
        await execute(store, close(claim))  # a concurrent or repeated close saw the same figures
    assert (await payable_day(store, AGENCY, DAY)).postings == ()
    assert (await posted_balances(store, AGENCY))[AGENCY] == 0
