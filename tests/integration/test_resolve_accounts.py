"""`citysettle resolve` knows our bank accounts without being told: from the run's own
mapping and from the collection accounts registered for payees, also those registered
after the run; `--account` is only for an account nobody registered (issue 9, item 8)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from domain.model.payees import BankAccount, PayeeKind
from domain.services.payees import put_payee
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from tests.support.cli import citysettle
from tests.support.csv_statements import write_csv_statement

DAY = date(2026, 11, 23)
ACCOUNT = "1500201095555"  # the agency's own collection account, where nothing was booked yet


async def _store(url: str, *, register: bool) -> None:
    store = await open_store(Config(store_url=url))
    try:
        if register:
            account = BankAccount("970405", ACCOUNT, "So Tu phap Ha Noi")
            use_case = put_payee(
                payee_id="so-tu-phap",
                name="Sở Tư pháp Hà Nội",
                kind=PayeeKind.AGENCY,
                collection_account=account,
                payout_account=None,
                at=datetime(2026, 11, 20, tzinfo=UTC),
            )
            await execute(store, use_case)
    finally:
        await store.close()


def _stray_credit(path: Path) -> Path:
    row = {"account": ACCOUNT, "statement_id": DAY, "currency": "VND", "amount": 50_000, "direction": "CRDT"}
    return write_csv_statement(
        path, [{**row, "booking_date": DAY, "bank_tx_id": "FT26327STRAY9", "remittance": "chuyen nham"}]
    )


def _run(url: str, tmp_path: Path) -> tuple[str, int]:
    statement = _stray_credit(tmp_path / "day.csv")
    args = ("--statement", str(statement), "--store", url, "--date", DAY.isoformat(), "--out", str(tmp_path / "out"))
    done = citysettle("reconcile", *args)
    assert done.returncode == 3, done.stderr
    (case,) = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["exceptions"]
    assert case["category"] == "missing_in_ledger"
    return json.loads(done.stdout)["run"], case["case"]


def _write_off(url: str, run: str, case: int, *more: str) -> Any:
    return citysettle(
        "resolve", "--run", run, "--case", str(case), "--resolution", "write_off", "--reason", "to trace",
        "--by", "ketoan.nguyen", "--store", url, *more,
    )  # fmt: skip


def test_a_registered_collection_account_needs_no_account_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/registered.db"
    asyncio.run(_store(url, register=True))
    run, case = _run(url, tmp_path)
    done = _write_off(url, run, case)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resolved"]["transfer"].startswith("reconciliation:")


def test_an_account_registered_after_the_run_is_known_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/later.db"
    asyncio.run(_store(url, register=False))
    run, case = _run(url, tmp_path)
    refused = _write_off(url, run, case)
    assert refused.returncode == 1
    assert f"statement account {ACCOUNT} is not one of ours" in refused.stderr
    assert f"--account {ACCOUNT}=bank:<BIN>:{ACCOUNT}" in refused.stderr
    asyncio.run(_store(url, register=True))
    done = _write_off(url, run, case)
    assert done.returncode == 0, done.stderr


def test_the_account_flag_names_an_unregistered_account_and_is_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/flag.db"
    asyncio.run(_store(url, register=False))
    run, case = _run(url, tmp_path)
    bad = _write_off(url, run, case, "--account", "foo")
    assert bad.returncode == 2
    assert "'foo' is not NUMBER=bank:BIN:NUMBER" in bad.stderr
    assert "Traceback" not in bad.stderr
    done = _write_off(url, run, case, "--account", f"{ACCOUNT}=bank:970405:{ACCOUNT}")
    assert done.returncode == 0, done.stderr
