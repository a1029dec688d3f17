"""report.html for a finance clerk: Vietnamese amounts, categories in words, plurals (issue 9, item 16)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.outcomes import CATEGORIES
from settlement.reconciliation.report_words import CATEGORY_WORDS, NBSP, amount, counted, group
from settlement.reconciliation.reports import write_reports
from settlement.statements.model import Direction, Entry, Statement
from tests.support.statements import ACCOUNT_NO, _case
from tests.unit.settlement.test_matching import run


def test_amounts_are_written_the_vietnamese_way() -> None:
    assert amount(200_000, "VND") == f"200.000{NBSP}₫"
    assert amount(-1_000, "VND") == f"-1.000{NBSP}₫"
    assert amount(7, "VND") == f"7{NBSP}₫"
    assert amount(123_450, "CHF") == f"1.234,50{NBSP}CHF"
    assert amount(-5, "KWD") == f"-0,005{NBSP}KWD"
    assert group(1_234_567) == "1.234.567"


@given(st.integers(-(10**15), 10**15))
def test_an_html_amount_reads_back_as_the_same_integer(value: int) -> None:
    text = amount(value, "VND").removesuffix(f"{NBSP}₫")
    assert int(text.replace(".", "")) == value


def test_every_category_has_words_vietnamese_first() -> None:
    assert set(CATEGORY_WORDS) == set(CATEGORIES)
    assert CATEGORY_WORDS[CATEGORIES[0]] == ("Đã khớp", "matched")


def test_counted_nouns_agree_with_their_number() -> None:
    assert counted(1, "open exception") == "1 open exception"
    assert counted(2, "open exception") == "2 open exceptions"
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(1_000, "entry", "entries") == "1.000 entries"


def test_html_has_vietnamese_amounts_and_words_while_json_and_csv_keep_plain_integers(tmp_path: Path) -> None:
    result = run([_case("amount_mismatch", 1, random.Random(1)), _case("missing_in_bank", 2, random.Random(2))])
    json_path, csv_path, html_path = write_reports(result, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    mismatch = next(e for e in json.loads(json_path.read_text(encoding="utf-8"))["exceptions"] if e["case"] == 1)
    bank = mismatch["bank"][0]
    assert isinstance(bank["amount_minor"], int)
    assert bank["amount"] == str(bank["amount_minor"])
    assert amount(bank["amount_minor"], "VND") in page
    assert f"CRDT {bank['amount_minor']} VND" not in page  # the amount cells; the reason text is the engine's
    assert f",{bank['amount_minor']},VND," in csv_path.read_text(encoding="utf-8-sig")
    assert "Thiếu trên sao kê ngân hàng" in page
    assert "2 open exceptions" in page
    assert "1 open exceptions" not in page


def test_one_open_exception_and_one_entry_are_singular(tmp_path: Path) -> None:
    entry = Entry(5_000, "VND", Direction.CREDIT, acct_svcr_ref="FT000001")
    page = write_reports(reconcile([Statement("csv", None, "S", ACCOUNT_NO, "VND", (), (entry,))], []), tmp_path)[2]
    text = page.read_text(encoding="utf-8")
    assert "Not reconciled: 1 open exception;" in text
    assert "1 entry)" in text
    assert "1 bank line" in text


def test_the_engines_reasons_are_written_the_vietnamese_way_in_html_only(tmp_path: Path) -> None:
    result = run([_case("amount_mismatch", 1, random.Random(1))])
    (mismatch,) = result.cases
    (line,) = mismatch.lines
    (item,) = mismatch.items
    bank, ledger = result.entries[line].amount_minor, result.items[item].amount_minor
    plain = f"bank {bank} VND, ledger {ledger} VND (difference {bank - ledger} VND)"
    assert mismatch.reason.endswith(plain)
    json_path, _, html_path = write_reports(result, tmp_path)
    assert json.loads(json_path.read_text(encoding="utf-8"))["exceptions"][0]["reason"] == mismatch.reason
    page = html_path.read_text(encoding="utf-8")
    shown = f"bank {amount(bank, 'VND')}, ledger {amount(ledger, 'VND')} (difference {amount(bank - ledger, 'VND')})"
    assert shown in page
    assert plain not in page


def test_lines_and_cases_share_one_numbering_from_1(tmp_path: Path) -> None:
    """The first line is line 1 in the HTML cells, the reasons and report.json, as the first
    case is case 1 (resolve's --case)."""
    result = run([_case("duplicate", 1, random.Random(1))])
    duplicate = next(c for c in result.cases if c.category.value == "duplicate")
    assert (duplicate.related_lines, duplicate.lines) == ((0,), (1,))
    assert duplicate.reason == "repeats line 1"
    json_path, csv_path, html_path = write_reports(result, tmp_path)
    (case,) = (
        e for e in json.loads(json_path.read_text(encoding="utf-8"))["exceptions"] if e["category"] == "duplicate"
    )
    assert [b["line"] for b in case["bank"]] == [2]
    assert [b["line"] for b in case["related_bank"]] == [1]
    page = html_path.read_text(encoding="utf-8")
    assert "<td class=why>repeats line 1</td><td class=id>line 2: CRDT " in page
    assert "#0" not in page
    assert "#1 " not in page
    rows = [r.split(",") for r in csv_path.read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert [r[7] for r in rows if r[6] == "bank"] == ["2", "1"]  # the ref column: the line's number
