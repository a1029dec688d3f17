"""report.html as a finance clerk sees it: a day reconciled with exceptions through the
real `citysettle reconcile`, opened in headless Chromium (Debian's, driven by Playwright;
`scripts/ensure_chromium.sh` installs it, `make test` runs that first), read from the
rendered page and kept as a screenshot (issue 9, item 16)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page

from settlement.reconciliation.report_words import CATEGORY_WORDS
from tests.integration.test_reconcile_cli import _seed
from tests.support.browser import PNG_SIGNATURE, artefact, browser_page
from tests.support.catalogue import TREASURY
from tests.support.cli import citysettle
from tests.support.csv_statements import write_csv_statement


def _day_with_exceptions(tmp_path: Path) -> tuple[str, Path]:
    """Three fees of 200,000 ₫ and a stray 7,000 ₫ in the ledger; the bank's CSV shows the
    first fee twice, the second short by its 1,000 ₫ charge, a transfer that is not ours,
    and neither the third fee nor the stray credit."""
    url = f"sqlite:///{tmp_path}/events.db"
    paid = asyncio.run(_seed(url, 3))
    common = {"account": TREASURY.account_no, "statement_id": "S23", "currency": "VND", "direction": "CRDT"}
    day = {"booking_date": "2026-11-23", "value_date": "2026-11-23"}
    rows: list[dict[str, object]] = [
        {**common, **day, "amount": 200_000, "bank_tx_id": paid[0].acct_svcr_ref, "remittance": paid[0].remittance,
         "counterparty_name": "NGUYEN VAN A"},
        {**common, **day, "amount": 200_000, "bank_tx_id": paid[0].acct_svcr_ref, "remittance": paid[0].remittance,
         "counterparty_name": "NGUYEN VAN A"},
        {**common, "booking_date": "2026-11-23", "value_date": "2026-11-22", "amount": 199_000,
         "bank_tx_id": paid[1].acct_svcr_ref, "remittance": "le phi LLTP", "counterparty_name": "LE THI C"},
        {**common, **day, "amount": 50_000, "bank_tx_id": "FT26327ODD1", "remittance": "chuyen nham",
         "counterparty_name": "TRAN THI B"},
    ]  # fmt: skip
    return url, write_csv_statement(tmp_path / "day.csv", rows)


def _texts(page: Page, selector: str) -> list[str]:
    texts: Any = page.eval_on_selector_all(selector, "cells => cells.map(c => c.innerText.trim())")
    return [str(t) for t in texts]


def _assert_a_rendered_page(shot: Path) -> None:
    """A PNG of the whole page, with text and colours in it (not a blank or error page)."""
    assert shot.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(shot) as image:
        assert image.width >= 1280, image.size
        assert image.height >= 900, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 50, "a page of text, tables and a chart has many shades"


def test_a_clerk_reads_the_report_in_a_browser(tmp_path: Path) -> None:
    url, statement = _day_with_exceptions(tmp_path)
    out = tmp_path / "out"
    done = citysettle("reconcile", "--statement", str(statement), "--store", url, "--date", "2026-11-23",
                      "--out", str(out))  # fmt: skip
    assert done.returncode == 3, done.stderr
    run = json.loads(done.stdout)["run"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    with browser_page(tmp_path / "chromium-profile") as page:
        page.goto((out / "report.html").as_uri())
        _what_a_clerk_sees(page, run, report)
        _exceptions_as_numbered(page, report)
        shot = artefact("report.png")
        page.screenshot(path=str(shot), full_page=True)
        overflow: Any = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    _assert_a_rendered_page(shot)
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def _what_a_clerk_sees(page: Page, run: str, report: dict[str, Any]) -> None:
    assert page.title() == "Reconciliation report"
    text = page.inner_text("body")
    assert f"Run {run}" in text
    assert "Not reconciled: 5 open exceptions" in text
    for words in CATEGORY_WORDS.values():
        assert "{} ({})".format(*words) in text, words
    for shown in ("200.000\u00a0₫", "199.000\u00a0₫", "50.000\u00a0₫", "649.000\u00a0₫", "207.000\u00a0₫"):
        assert shown in text, shown
    assert "200000" not in text, "no amount in plain digits"
    for case in report["exceptions"]:
        for command in case["resolve"]:
            assert command in text, command
    stray = next(e for e in report["exceptions"] if e["category"] == "missing_in_ledger")
    assert stray["resolve"][0].startswith(f"citysettle resolve --run {run} --case {stray['case']} --resolution ")


def _exceptions_as_numbered(page: Page, report: dict[str, Any]) -> None:
    """One numbering: the # column is resolve's --case, and lines count from 1 in the
    bank-line cells, the reasons and report.json alike."""
    head = _texts(page, "table.cases tr:first-child th")
    assert head[:4] == ["#", "category", "state", "reason"]
    assert "counterparty" in head
    assert "note" in head
    assert all(head), f"every column is headed: {head}"
    assert all(_texts(page, "table th")), "every column of every table is headed"
    cases = {e["case"]: e for e in report["exceptions"]}
    rows = page.locator("table.cases tr.case")
    assert rows.count() == len(cases) == 5
    for row in (rows.nth(n) for n in range(rows.count())):
        number, _, _, reason, bank, *_ = (c.strip() for c in row.locator("td").all_inner_texts())
        case = cases[int(number)]
        assert [b["line"] for b in case["bank"]] == [int(t.split(":")[0][5:]) for t in bank.split("\n") if t], bank
        if case["category"] == "duplicate":
            (first,) = case["related_bank"]
            assert reason == f"repeats line {first['line']}" == case["reason"]
            assert first["line"] == 1
            assert case["bank"][0]["line"] == 2
        if case["category"] == "amount_mismatch":
            assert case["reason"].endswith("bank 199000 VND, ledger 200000 VND (difference -1000 VND)")
            assert reason.endswith("bank 199.000\u00a0₫, ledger 200.000\u00a0₫ (difference -1.000\u00a0₫)")
