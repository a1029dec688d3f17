"""scripts/camt054_select.py: the lost credits of a day's statement as a camt.054 that the
camt054 bank connector books; nothing else of the statement goes with them."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from adapters.banks.camt054 import Camt054Adapter
from adapters.banks.notification import WebhookRequest
from ops.demo.bank import Bank, Booking, write_camt053
from tests.support.banks import camt054_request
from tests.support.cli import ROOT

DAY = date(2026, 11, 24)
AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEY = b"camt054-test-key"


def statement(path: Path) -> Path:
    """Two accounts' day: four credits, one of them listed twice."""
    bank = Bank(DAY)
    for n, account in enumerate(["1017788990", "1017788990", "0011004455667", "0011004455667"]):
        note = f"nop le phi CSREF{n:011d}"
        bank.book(
            Booking(
                account,
                f"FT2632810000{n:02d}",
                10_000 * (n + 1),
                note,
                AT + n * timedelta(hours=1),
                "TRAN THI NAM",
                "9704000000",
                repeated=n == 0,
            )
        )
    path.write_bytes(write_camt053(bank, ["1017788990", "0011004455667"], AT + timedelta(days=1)))
    return path


def select(source: Path, out: Path, *references: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "scripts" / "camt054_select.py"), str(source), str(out), *references]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)


def booked(document: bytes) -> list[tuple[str, str, int]]:
    signed = camt054_request(document, KEY, AT + timedelta(days=1))
    request = WebhookRequest(signed.headers, signed.body, AT + timedelta(days=1))
    return [(n.account_no, n.bank_tx_id, n.amount_vnd) for n in Camt054Adapter().notifications(request, KEY)]


def test_only_the_named_credits_go_out_under_their_own_accounts(tmp_path: Path) -> None:
    source = statement(tmp_path / "day.camt053.xml")
    done = select(source, tmp_path / "lost.xml", "FT263281000001", "FT263281000002")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"camt054_select: 2 entries written to {tmp_path / 'lost.xml'}\n"
    document = (tmp_path / "lost.xml").read_bytes()
    assert b"camt.054.001.08" in document
    assert b"<Bal>" not in document
    assert booked(document) == [("1017788990", "FT263281000001", 20_000), ("0011004455667", "FT263281000002", 30_000)]


def test_a_reference_not_on_the_statement_writes_nothing(tmp_path: Path) -> None:
    source = statement(tmp_path / "day.camt053.xml")
    done = select(source, tmp_path / "lost.xml", "FT263281000001", "FT-NOT-THERE")
    assert done.returncode == 2
    assert done.stderr == f"camt054_select: not in {source}: FT-NOT-THERE\n"
    assert not (tmp_path / "lost.xml").exists()


def test_a_file_that_is_no_camt_statement_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "pain.xml"
    other.write_bytes(
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>'
    )
    done = select(other, tmp_path / "lost.xml", "FT1")
    assert done.returncode == 2
    assert "not a camt.053 or camt.054 document" in done.stderr
