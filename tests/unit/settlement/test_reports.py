"""report.json / report.csv / report.html: content, self-containment, byte-identical re-runs."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.report_html import HTML_ROWS_MAX
from settlement.reconciliation.reports import CSV_COLUMNS, write_reports
from settlement.statements.model import Direction, Entry, Statement
from tests.support.statements import ACCOUNT_NO, _case
from tests.unit.settlement.test_matching import run


def test_reports_name_both_sides_and_add_up(tmp_path: Path) -> None:
    kinds = ["matched", "amount_mismatch", "duplicate", "missing_in_bank", "missing_in_ledger", "reversed"]
    result = run([_case(kind, n, random.Random(n)) for n, kind in enumerate(kinds)])
    json_path, csv_path, html_path = write_reports(result, tmp_path / "out", {"period": {"first": "2026-11-23"}})
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["reconciled"] is False
    assert report["inputs"]["period"]["first"] == "2026-11-23"
    assert report["totals"]["lines"] == sum(c["lines"] for c in report["categories"].values())
    assert report["totals"]["line_sums_minor"]["VND"] == sum(
        c["line_sums_minor"].get("VND", 0) for c in report["categories"].values()
    )
    mismatch = next(e for e in report["exceptions"] if e["category"] == "amount_mismatch")
    assert mismatch["bank"][0]["amount_minor"] - mismatch["ledger"][0]["amount_minor"] == 500
    assert {e["category"] for e in report["exceptions"]} == set(kinds) - {"matched"}
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf"), "a byte-order mark, for spreadsheet programs"
    rows = list(csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {r["category"] for r in rows} == set(kinds) - {"matched"}
    html = html_path.read_text(encoding="utf-8")
    assert "<svg" in html
    assert '<span lang="vi">Lệch số tiền</span> <span class=en lang="en">(amount mismatch)</span>' in html
    assert not re.search(r"(src|href)=", html)  # nothing loaded from elsewhere


def test_rerun_is_byte_identical(tmp_path: Path) -> None:
    cases = [_case(kind, n, random.Random(n)) for n, kind in enumerate(["reference", "duplicate", "split", "reversed"])]
    first = [p.read_bytes() for p in write_reports(run(cases), tmp_path / "a")]
    second = [p.read_bytes() for p in write_reports(run(cases), tmp_path / "b")]
    assert first == second


def test_html_table_is_bounded_and_clean_report_says_reconciled(tmp_path: Path) -> None:
    many = tuple(
        Entry(1_000 + i, "VND", Direction.CREDIT, acct_svcr_ref=f"FT{i:06d}") for i in range(HTML_ROWS_MAX + 5)
    )
    result = reconcile([Statement("csv", None, "S", ACCOUNT_NO, "VND", (), many)], [])
    html = write_reports(result, tmp_path / "many")[2].read_text(encoding="utf-8")
    assert "5 more exceptions are in report.csv" in html
    empty = reconcile([], [])
    assert empty.reconciled
    assert "Reconciled" in write_reports(empty, tmp_path / "empty")[2].read_text(encoding="utf-8")


def test_html_escapes_what_the_bank_wrote(tmp_path: Path) -> None:
    """report.html is a Jinja template with autoescape: a transfer note or a bank reference
    that looks like markup is shown as text, never run."""
    hostile = Entry(
        5_000, "VND", Direction.CREDIT, acct_svcr_ref="FT<b>1</b>", additional_info="<script>alert(1)</script> & co"
    )
    result = reconcile([Statement("csv", None, "S<1>", ACCOUNT_NO, "VND", (), (hostile,))], [])
    page = write_reports(result, tmp_path / "hostile")[2].read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "FT&lt;b&gt;1&lt;/b&gt;" in page
    assert "S&lt;1&gt;" in page
    assert "5.000\u00a0₫" in page
