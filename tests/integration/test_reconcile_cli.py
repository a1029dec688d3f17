"""`citysettle reconcile` against a real SQLite store seeded through the use cases.

Fee invoices are issued and paid by bank transfer (`credit_bank_transfer`), so the
ledger's bank-clearing entries and bank credits are exactly what production writes; the
bank's camt.053 for the day is generated from the same transfers, with exceptions added.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.model.ledger import PartyKind, payable
from domain.model.payments import PaymentPurpose
from domain.services.fees import issue_fee_invoice, settle_invoice_on_payment
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.pain001 import BankAccount
from settlement.payouts.use_cases import close_settlement_batch
from settlement.reconciliation.ledger_side import BANK_TZ
from tests.support.catalogue import CATALOGUE, TREASURY
from tests.support.cli import citysettle
from tests.support.csv_statements import write_csv_statement
from tests.support.fixtures import BANK_FIXTURES
from tests.support.settlement import claim_for
from tests.support.statements import GenLine, write_camt053

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hanoi
ON_PAID = {PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment}


async def _seed(url: str, payments: int) -> list[GenLine]:
    """Issue and pay ``payments`` invoices plus one stray transfer; return the bank's lines for them."""
    store = await open_store(Config(store_url=url))
    lines = []
    try:
        for n in range(payments):
            issued = await execute(
                store,
                issue_fee_invoice(
                    CATALOGUE,
                    invoice_no=f"HS-{n}",
                    payer_id="001099012345",
                    service_code="LLTP-01",
                    channel="counter",
                    collection=TREASURY,
                    at=T0,
                ),
            )
            reference = issued.result["payment"]["reference"]
            note = f"MBVCB.{n}.{reference}.le phi LLTP"
            notice = BankNotice(
                TREASURY.bank_bin, TREASURY.account_no, f"FT26327{n:05d}", 200_000, note, T0 + timedelta(minutes=n)
            )
            await execute(store, credit_bank_transfer(notice, T0, ON_PAID))
            lines.append(GenLine(200_000, acct_svcr_ref=notice.bank_tx_id, remittance=note))
        stray = BankNotice(TREASURY.bank_bin, TREASURY.account_no, "FT26327STRAY", 7_000, "tien an trua", T0)
        await execute(store, credit_bank_transfer(stray, T0, ON_PAID))
        lines.append(GenLine(7_000, acct_svcr_ref="FT26327STRAY", remittance="tien an trua"))
    finally:
        await store.close()
    return lines


def _statement(path: Path, lines: list[GenLine]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        write_camt053(out, lines, statement_id=path.stem)
    return path


def _reconcile(*args: str) -> subprocess.CompletedProcess[str]:
    return citysettle("reconcile", *args)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[GenLine]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/events.db"
    return url, asyncio.run(_seed(url, 6))


def test_clean_day_reconciles(seeded: tuple[str, list[GenLine]], tmp_path: Path) -> None:
    url, lines = seeded
    statement = _statement(tmp_path / "clean.xml", lines)
    done = _reconcile("--statement", str(statement), "--store", url, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["reconciled"] is True
    assert report["categories"]["matched"] == {
        "lines": 7,
        "items": 7,
        "line_sums_minor": {"VND": 1_207_000},
        "item_sums_minor": {"VND": 1_207_000},
    }
    assert {b["check"]: b["ok"] for b in report["balances"]} == {
        "movement": True,
        "opening_vs_ledger": True,
        "closing_vs_ledger": True,
    }
    assert report["matches_by_stage"]["ids"] == 7
    assert json.loads(done.stdout)["reconciled"] is True


def test_exceptions_exit_3_with_every_category(seeded: tuple[str, list[GenLine]], tmp_path: Path) -> None:
    url, lines = seeded
    paid = lines[:-1]
    bank = [
        paid[0],
        paid[0],  # the bank sent it twice
        GenLine(199_000, acct_svcr_ref=paid[1].acct_svcr_ref),  # the bank took a fee out of it
        GenLine(200_000, acct_svcr_ref="FT-UNKNOWN-1", remittance=paid[2].remittance),  # our reference, their own id
        GenLine(50_000, acct_svcr_ref="FT-UNKNOWN-2", end_to_end_id="E2E-FOREIGN"),  # not ours
        GenLine(200_000, acct_svcr_ref=paid[3].acct_svcr_ref, end_to_end_id="E2E-REV-3"),
        GenLine(200_000, "DBIT", "FT-REVERSAL-3", "E2E-REV-3", "hoan tra", reversal=True),
        paid[5],
        # paid[4] and the stray 7,000 credit are missing from the statement
    ]
    statement = _statement(tmp_path / "day.xml", bank)
    out = tmp_path / "out"
    done = _reconcile("--statement", str(statement), "--store", url, "--out", str(out), "--date", "2026-11-23")
    assert done.returncode == 3, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    lines_by = {k: v["lines"] for k, v in report["categories"].items()}
    items_by = {k: v["items"] for k, v in report["categories"].items()}
    assert lines_by == {
        "matched": 3,
        "missing_in_bank": 0,
        "missing_in_ledger": 1,
        "amount_mismatch": 1,
        "duplicate": 1,
        "reversed": 2,
    }
    assert items_by == {
        "matched": 3,
        "missing_in_bank": 2,
        "missing_in_ledger": 0,
        "amount_mismatch": 1,
        "duplicate": 0,
        "reversed": 1,
    }
    assert report["matches_by_stage"]["reference"] == 1
    assert {b["check"]: b["ok"] for b in report["balances"]}["closing_vs_ledger"] is False
    csv_text = (out / "report.csv").read_text(encoding="utf-8")
    assert "amount_mismatch" in csv_text
    assert "FT26327STRAY" in csv_text
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")


def test_same_statement_twice_changes_nothing(seeded: tuple[str, list[GenLine]], tmp_path: Path) -> None:
    url, lines = seeded
    statement = _statement(tmp_path / "twice.xml", lines[:3])
    once, twice = tmp_path / "once", tmp_path / "twice"
    _reconcile("--statement", str(statement), "--store", url, "--out", str(once), "--date", "2026-11-23")
    done = _reconcile(
        "--statement",
        str(statement),
        "--statement",
        str(statement),
        "--store",
        url,
        "--out",
        str(twice),
        "--date",
        "2026-11-23",
    )
    assert done.returncode == 3
    for name in ("report.json", "report.csv", "report.html"):
        assert (once / name).read_bytes() == (twice / name).read_bytes()


@pytest.mark.parametrize("content", [b"not a statement", b"<?xml version='1.0'?><Document><broken"])
def test_unreadable_statement_exits_1(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    done = _reconcile("--statement", str(path), "--store", f"sqlite:///{tmp_path}/e.db", "--out", str(tmp_path))
    assert done.returncode == 1
    assert "cannot read the statement" in done.stderr
    missing = _reconcile("--statement", str(tmp_path / "nope.xml"), "--store", f"sqlite:///{tmp_path}/e.db")
    assert missing.returncode == 1


def test_real_sample_in_chf_is_reported_not_crashed(seeded: tuple[str, list[GenLine]], tmp_path: Path) -> None:
    url, _ = seeded
    sample = BANK_FIXTURES / "camt053_v8_uetr_fx__viafintech.xml"
    done = _reconcile("--statement", str(sample), "--store", url, "--out", str(tmp_path / "chf"))
    assert done.returncode == 3, done.stderr
    report: dict[str, Any] = json.loads((tmp_path / "chf" / "report.json").read_text(encoding="utf-8"))
    assert report["categories"]["missing_in_ledger"]["lines"] == 3
    assert all("VND" in e["reason"] for e in report["exceptions"])


def test_format_that_does_not_match_the_content_exits_1(seeded: tuple[str, list[GenLine]], tmp_path: Path) -> None:
    url, lines = seeded
    statement = _statement(tmp_path / "day.xml", lines[:1])
    done = _reconcile("--statement", str(statement), "--format", "mt940", "--store", url, "--out", str(tmp_path))
    assert done.returncode == 1
    assert "not mt940" in done.stderr


def _resolve(*args: str) -> subprocess.CompletedProcess[str]:
    return citysettle("resolve", *args)


def test_runs_are_recorded_once_and_exceptions_resolved_with_their_postings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/resolve.db"
    lines = asyncio.run(_seed(url, 2))
    statement = _statement(tmp_path / "day.xml", [GenLine(199_000, acct_svcr_ref=lines[0].acct_svcr_ref), lines[1]])
    args = ("--statement", str(statement), "--store", url, "--date", "2026-11-23")
    first = _reconcile(*args, "--out", str(tmp_path / "a"))
    again = _reconcile(*args, "--out", str(tmp_path / "b"))
    assert first.returncode == again.returncode == 3
    run = json.loads(first.stdout)["run"]
    assert json.loads(again.stdout)["run"] == run, "the same inputs record the same run"

    report = json.loads((tmp_path / "a" / "report.json").read_text(encoding="utf-8"))
    case = {e["category"]: e["case"] for e in report["exceptions"]}
    fee = _resolve(
        "--run",
        run,
        "--case",
        str(case["amount_mismatch"]),
        "--resolution",
        "write_off",
        "--reason",
        "NAPAS fee deducted",
        "--by",
        "ketoan.nguyen",
        "--store",
        url,
    )
    assert fee.returncode == 0, fee.stderr
    assert json.loads(fee.stdout)["resolved"]["transfer"].startswith("reconciliation:")
    stray = _resolve(
        "--run",
        run,
        "--case",
        str(case["missing_in_bank"]),
        "--resolution",
        "refund",
        "--reason",
        "x",
        "--by",
        "ketoan.nguyen",
        "--store",
        url,
    )
    assert stray.returncode == 1
    assert "only money that came in" in stray.stderr
    twice = _resolve(
        "--run",
        run,
        "--case",
        str(case["amount_mismatch"]),
        "--resolution",
        "write_off",
        "--reason",
        "again",
        "--by",
        "ketoan.nguyen",
        "--store",
        url,
    )
    assert twice.returncode == 1
    assert "already" in twice.stderr

    # The write-off moved the bank-clearing account: a new run reads a new ledger.
    after = _reconcile(*args, "--out", str(tmp_path / "c"))
    new_run = json.loads(after.stdout)["run"]
    assert new_run != run
    # The same line and item reported again by the new run cannot be booked a second time.
    new_report = json.loads((tmp_path / "c" / "report.json").read_text(encoding="utf-8"))
    new_case = {e["category"]: e["case"] for e in new_report["exceptions"]}["amount_mismatch"]
    rebook = _resolve(
        "--run",
        new_run,
        "--case",
        str(new_case),
        "--resolution",
        "write_off",
        "--reason",
        "fee",
        "--by",
        "ketoan.tran",
        "--store",
        url,
    )
    assert rebook.returncode == 1
    assert "already resolved" in rebook.stderr


async def _settle_yesterday(url: str) -> tuple[str, int]:
    """Collect one fee on 22 November, close the agency's batch on the 23rd; return the
    payout's EndToEndId and amount."""
    collected_at = T0 - timedelta(days=1)
    store = await open_store(Config(store_url=url))
    try:
        issued = await execute(
            store,
            issue_fee_invoice(
                CATALOGUE,
                invoice_no="HS-Y",
                payer_id="p",
                service_code="LLTP-01",
                channel="counter",
                collection=TREASURY,
                at=collected_at,
            ),
        )
        reference = issued.result["payment"]["reference"]
        notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, "FT-Y-0001", 200_000, reference, collected_at)
        await execute(store, credit_bank_transfer(notice, collected_at, ON_PAID))
        agency = payable(PartyKind.AGENCY, "so-tu-phap")
        claim = await claim_for(store, agency, collected_at.date())
        batch = await execute(
            store,
            close_settlement_batch(
                claim=claim,
                calendar=SettlementCalendar(),
                paying_account=BankAccount(TREASURY.bank_bin, TREASURY.account_no, TREASURY.name),
                closed_by="ketoan.nguyen",
                at=T0,
            ),
        )
        return batch.result["end_to_end_id"], batch.result["net_vnd"]
    finally:
        await store.close()


def test_a_payout_on_the_statement_marks_its_settlement_batch_matched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/payout.db"
    end_to_end_id, net = asyncio.run(_settle_yesterday(url))
    payout = GenLine(net, "DBIT", "FT-PAYOUT-0001", end_to_end_id, "Settlement so-tu-phap")
    statement = _statement(tmp_path / "payout.xml", [payout])
    args = ("--statement", str(statement), "--store", url, "--date", "2026-11-23")
    done = _reconcile(*args, "--out", str(tmp_path / "out"))
    summary = json.loads(done.stdout)
    assert len(summary["matched_batches"]) == 1, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["matches_by_stage"]["ids"] == 1
    again = json.loads(_reconcile(*args, "--out", str(tmp_path / "again")).stdout)
    assert again["matched_batches"] == [], "a matched batch is not matched twice"


def test_resolve_opens_existing_stores_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/typo.db"
    run = "00000000-0000-0000-0000-000000000001"
    refused = _resolve(
        "--run", run, "--case", "1", "--resolution", "acknowledge", "--reason", "x", "--by", "kt", "--store", url
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"citysettle resolve: no event store at {url}: {tmp_path}/typo.db does not exist"
    assert not (tmp_path / "typo.db").exists()


def test_reconcile_opens_existing_stores_only(tmp_path: Path) -> None:
    statement = _statement(tmp_path / "day.xml", [GenLine(200_000, acct_svcr_ref="FT26327X")])
    url = f"sqlite:///{tmp_path}/typo.db"
    out = tmp_path / "out"
    refused = _reconcile("--statement", str(statement), "--store", url, "--date", "2026-11-23", "--out", str(out))
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"citysettle reconcile: no event store at {url}: {tmp_path}/typo.db does not exist"
    assert refused.stdout == ""
    assert not (tmp_path / "typo.db").exists()
    assert not out.exists(), "no report of a ledger that was never read"


def _balances_only(path: Path, day: date, balance_vnd: int) -> Path:
    """A CSV statement of a day without movements: only its opening and closing balance."""
    common = {"account": TREASURY.account_no, "statement_id": day, "currency": "VND", "amount": balance_vnd}
    before = day - timedelta(days=1)
    return write_csv_statement(
        path,
        [
            {"record": "OPBD", **common, "direction": "CRDT", "booking_date": before},
            {"record": "CLBD", **common, "direction": "CRDT", "booking_date": day},
        ],
    )


def test_a_resolution_is_booked_on_the_exceptions_day(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/value-date.db"
    lines = asyncio.run(_seed(url, 2))  # two fees of 200,000 and a stray 7,000, all on 23 November
    statement = _statement(tmp_path / "day.xml", [GenLine(199_000, acct_svcr_ref=lines[0].acct_svcr_ref), lines[1]])
    args = ("--statement", str(statement), "--store", url, "--date", "2026-11-23")
    first = _reconcile(*args, "--out", str(tmp_path / "a"))
    assert first.returncode == 3, first.stderr
    run = json.loads(first.stdout)["run"]
    report = json.loads((tmp_path / "a" / "report.json").read_text(encoding="utf-8"))
    case = {e["category"]: e["case"] for e in report["exceptions"]}
    for category, reason in (("amount_mismatch", "NAPAS fee deducted"), ("missing_in_bank", "trace with the bank")):
        common = ("--resolution", "write_off", "--reason", reason, "--by", "ketoan.nguyen", "--store", url)
        done = _resolve("--run", run, "--case", str(case[category]), *common)
        assert done.returncode == 0, done.stderr
        resolved = json.loads(done.stdout)["resolved"]
        assert resolved["value_date"] == "2026-11-23"
        assert resolved["resolved_at"] > "2026-11-23", "the decision keeps its own time"

    again = _reconcile(*args, "--out", str(tmp_path / "b"))
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = json.loads((tmp_path / "b" / "report.json").read_text(encoding="utf-8"))
    assert rerun["reconciled"] is True
    shown = {e["category"]: e for e in rerun["exceptions"]}
    assert shown["amount_mismatch"]["settled"] is True
    assert shown["amount_mismatch"]["resolution"].startswith("write_off by ketoan.nguyen")
    assert "NAPAS fee deducted" in shown["amount_mismatch"]["resolution"]
    assert [i["amount_minor"] for i in shown["amount_mismatch"]["ledger"]] == [200_000, 1_000]
    assert shown["missing_in_bank"]["resolution"].endswith("trace with the bank")
    assert "resolved: write_off by ketoan.nguyen" in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")

    next_day = _balances_only(tmp_path / "next.csv", date(2026, 11, 24), 399_000)
    clean = _reconcile(
        "--statement", str(next_day), "--store", url, "--date", "2026-11-24", "--out", str(tmp_path / "c")
    )
    assert clean.returncode == 0, clean.stdout
    today = datetime.now(UTC).astimezone(BANK_TZ).date()
    decided = _balances_only(tmp_path / "today.csv", today, 399_000)
    resolving_day = _reconcile(
        "--statement", str(decided), "--store", url, "--date", today.isoformat(), "--out", str(tmp_path / "d")
    )
    assert resolving_day.returncode == 0, "the day of the decision shows nothing new: " + resolving_day.stdout
