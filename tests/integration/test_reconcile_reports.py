"""The reports lead finance to the decision: the run id, the exact `citysettle resolve`
command per open case, and each line's counterparty, note and dates (issue 9, item 9)."""

from __future__ import annotations

import asyncio
import html
import json
import shlex
from pathlib import Path

from tests.integration.test_reconcile_cli import _seed
from tests.support.catalogue import TREASURY
from tests.support.cli import citysettle
from tests.support.csv_statements import write_csv_statement


def _statement(path: Path, fee_tx: str) -> Path:
    common = {"account": TREASURY.account_no, "statement_id": "S23", "currency": "VND"}
    return write_csv_statement(
        path,
        [
            {**common, "amount": 199_000, "direction": "CRDT", "booking_date": "2026-11-23", "value_date": "2026-11-22",
             "bank_tx_id": fee_tx, "remittance": "le phi LLTP", "counterparty_name": "NGUYEN VAN A"},
            {**common, "amount": 50_000, "direction": "CRDT", "booking_date": "2026-11-23", "value_date": "2026-11-23",
             "bank_tx_id": "FT26327ODD1", "remittance": "chuyen nham", "counterparty_name": "TRAN THI B"},
        ],
    )  # fmt: skip


def test_reports_name_the_run_and_the_resolve_command_of_each_open_case(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/reports.db"
    lines = asyncio.run(_seed(url, 1))  # one fee of 200,000 and a stray 7,000 in the ledger
    statement = _statement(tmp_path / "day.csv", str(lines[0].acct_svcr_ref))
    out = tmp_path / "out"
    args = ("--statement", str(statement), "--store", url, "--date", "2026-11-23", "--out", str(out))
    done = citysettle("reconcile", *args)
    assert done.returncode == 3, done.stderr
    run = json.loads(done.stdout)["run"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["run"] == run
    cases = {e["category"]: e for e in report["exceptions"]}
    assert set(cases) == {"amount_mismatch", "missing_in_ledger", "missing_in_bank"}
    stray = cases["missing_in_ledger"]
    prefix = f"citysettle resolve --run {run} --case {stray['case']} --resolution"
    assert stray["resolve"] == [
        f"{prefix} {r} --reason REASON --by USER --store {url}" for r in ("write_off", "refund", "manual_match")
    ]
    assert cases["amount_mismatch"]["resolve"][0].endswith(
        "--resolution write_off --reason REASON --by USER --store " + url
    )
    (bank,) = cases["amount_mismatch"]["bank"]
    assert (bank["counterparty"], bank["text"], bank["value_date"]) == ("NGUYEN VAN A", "le phi LLTP", "2026-11-22")

    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert f"Run <code>{run}</code>" in page
    for text in (
        "NGUYEN VAN A",
        "chuyen nham",
        "2026-11-22",
        "value date",
        "counterparty",
        "note",
        stray["resolve"][0],
    ):
        assert text in page, text

    typed = stray["resolve"][0].replace("REASON", "'sent to us by mistake'").replace("USER", "ketoan.nguyen")
    command = shlex.split(typed)
    assert command[:2] == ["citysettle", "resolve"]
    decided = citysettle(*command[1:])
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["resolved"]["case"] == stray["case"]
    again = citysettle("reconcile", *args)
    rerun = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert json.loads(again.stdout)["run"] == rerun["run"] != run
    assert {e["category"]: e["resolve"] for e in rerun["exceptions"]}["missing_in_ledger"] == []
