"""`citysettle reconcile` on statement files that must be read with care: repeated MT940
messages, files that hold no statement, notifications without booking dates."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from ops.config import Config
from ops.stores import open_store
from tests.support.cli import citysettle, new_store
from tests.support.fixtures import BANK_FIXTURES
from tests.support.statements import ACCOUNT_NO


def _reconcile(*args: str) -> subprocess.CompletedProcess[str]:
    return citysettle("reconcile", *args)


def _log_position(url: str) -> int:
    async def head() -> int:
        store = await open_store(Config(store_url=url))
        try:
            return (await store.head()).position
        finally:
            await store.close()

    return asyncio.run(head())


def _mt940(reference: str, amount: int) -> str:
    return (
        f":20:{reference}\n:25:{ACCOUNT_NO}\n:28C:1/1\n:60F:C261122VND0,\n"
        f":61:2611231123C{amount},NTRFFT{amount}//B{amount}\n:86:chuyen tien\n:62F:C261123VND{amount},\n-\n"
    )


def test_a_repeated_message_is_read_once_and_the_report_says_so(tmp_path: Path) -> None:
    statement = tmp_path / "day.sta"
    statement.write_text(_mt940("STMT", 150_000) + _mt940("STMT", 20_000) + _mt940("STMT", 150_000))
    out = tmp_path / "out"
    done = _reconcile(
        "--statement", str(statement), "--store", new_store(f"sqlite:///{tmp_path}/e.db"), "--out", str(out)
    )
    assert done.returncode == 3, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [s["entries"] for s in report["statements"]] == [1, 1]  # same :20:/:28C:, other content: both read
    assert report["inputs"]["repeated_statements"] == [
        {"file": "day.sta", "statement_id": "STMT/1/1", "account": ACCOUNT_NO, "position": 3, "same_as": 1}
    ]
    assert json.loads(done.stdout)["repeated_statements"] == 1
    assert "statement 3 (STMT/1/1, account 0011004455667) repeats statement 1" in done.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "day.sta: statement 3 (STMT/1/1, 0011004455667) repeats statement 1 line for line" in html


NO_STATEMENT = {
    "camt053_without_stmt": '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
    "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr></BkToCstmrStmt></Document>",
    "other_namespace": '<?xml version="1.0"?><Document xmlns="urn:example:invoice" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08 camt.053.001.08.xsd"><Stmt/></Document>',
    "xxe": '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Id>ID-&x;-END</Id>'
    f"<Acct><Id><Othr><Id>{ACCOUNT_NO}</Id></Othr></Id></Acct></Stmt></BkToCstmrStmt></Document>",
}


@pytest.mark.parametrize("name", sorted(NO_STATEMENT))
def test_a_file_without_a_statement_exits_1_and_records_nothing(tmp_path: Path, name: str) -> None:
    statement = tmp_path / f"{name}.xml"
    statement.write_text(NO_STATEMENT[name])
    url = new_store(f"sqlite:///{tmp_path}/e.db")
    done = _reconcile(
        "--statement", str(statement), "--store", url, "--out", str(tmp_path / "out"), "--date", "2026-11-23"
    )
    assert done.returncode == 1, done.stdout
    assert "cannot read the statement" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    assert _log_position(url) == 0, "no run is recorded"


def test_a_notification_without_booking_dates_needs_no_date(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sample = BANK_FIXTURES / "camt054_v8_uetr_minimal__genkgo.xml"
    done = _reconcile("--statement", str(sample), "--store", new_store(f"sqlite:///{tmp_path}/e.db"), "--out", str(out))
    assert done.returncode == 3, done.stderr  # a SEK debit our VND books do not hold
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["inputs"]["period"] == {"first": "2007-10-18", "last": "2007-10-18"}
