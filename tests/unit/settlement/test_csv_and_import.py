"""The documented CSV layout, format detection and statement identity."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from settlement.statements import (
    BalanceRole,
    Direction,
    StatementError,
    StatementFormat,
    detect_format,
    distinct,
    read_statement_file,
)
from settlement.statements.csv_layout import REQUIRED
from tests.unit.settlement.fixtures import BANK_FIXTURES, load

HEADER = "record,account,statement_id,currency,amount,direction,booking_date,bank_tx_id,remittance,charges,batch_id"
CSV = f"""\ufeff{HEADER},batch_count
OPBD,0011 0044 55667,D1,VND,1000000,CRDT,2026-11-22,,,,,
entry,0011 0044 55667,D1,VND,200000,CRDT,2026-11-23,FT1,"MBVCB.1.CSK7M2Q9XD.le phi",,,
entry,0011 0044 55667,D1,VND,50000,DBIT,2026-11-23,FT2,phi,1100,PAY-7,3
CLBD,0011 0044 55667,D1,VND,1150000,CRDT,2026-11-23,,,,,
"""


def test_csv_layout() -> None:
    parsed = read_statement_file(io.BytesIO(CSV.encode()))
    assert parsed.format is StatementFormat.CSV
    statement = parsed.statements[0].statement
    assert (statement.account, statement.statement_id, statement.currency) == ("0011004455667", "D1", "VND")
    credit, debit = statement.entries
    assert (credit.direction, credit.amount_minor, credit.acct_svcr_ref) == (Direction.CREDIT, 200000, "FT1")
    assert "CSK7M2Q9XD" in credit.details[0].remittance
    assert debit.charges is not None
    assert debit.charges.total_minor == 1100
    assert (debit.batches[0].payment_info_id, debit.batches[0].count) == ("PAY-7", 3)
    opening, closing = statement.balance(BalanceRole.OPENING), statement.balance(BalanceRole.CLOSING)
    assert opening is not None
    assert closing is not None
    assert opening.amount_minor + sum(e.signed_minor for e in statement.entries) == closing.amount_minor


@pytest.mark.parametrize(
    ("change", "message"),
    [(("200000", "200000.5"), "CSV line 3"), (("CRDT,2026-11-23,FT1", "IN,2026-11-23,FT1"), "direction")],
)
def test_csv_errors_name_the_line(change: tuple[str, str], message: str) -> None:
    with pytest.raises(StatementError, match=message):
        read_statement_file(io.BytesIO(CSV.replace(*change).encode()))


def test_csv_layout_is_documented() -> None:
    finance = (Path(__file__).resolve().parents[3] / "docs" / "FINANCE.md").read_text(encoding="utf-8")
    section = finance.split("## Bank statement CSV layout", 1)[1]
    assert all(f"`{column}`" in section for column in REQUIRED)


def test_detection_and_format_mismatch() -> None:
    head = (BANK_FIXTURES / "camt054_v8_uetr_minimal__genkgo.xml").read_bytes()
    assert detect_format(head) is StatementFormat.CAMT054
    with pytest.raises(StatementError, match="not camt053"), io.BytesIO(head) as stream:
        read_statement_file(stream, StatementFormat.CAMT053)
    with pytest.raises(StatementError, match="cannot tell"):
        detect_format(b"hello")
    with pytest.raises(StatementError, match=r"camt\.053 or camt\.054"):
        detect_format(b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'/>")


def test_identity_is_file_hash_account_and_statement_id() -> None:
    name = "mt940_sepa_batch_reversal__wolph-mt940.sta"
    first, again = load(name), load(name)
    assert first.file_sha256 == hashlib.sha256((BANK_FIXTURES / name).read_bytes()).hexdigest()
    assert [s.identity for s in first.statements] == [s.identity for s in again.statements]
    assert len({s.identity for s in first.statements}) == 26
    assert distinct([first, again]) == first.statements  # a second import adds nothing
    other = load("mt940_abnamro__wolph-mt940.sta")
    assert len(distinct([first, other, first])) == 28


def test_a_csv_lacking_required_columns_names_them() -> None:
    with pytest.raises(StatementError, match=r"lacks the required column\(s\) direction, booking_date; its header"):
        read_statement_file(io.BytesIO(b"Account,Currency,Amount\n0011004455667,VND,200000\n"))
    with pytest.raises(StatementError, match=r"holds no statement \(no row under the CSV header"):
        read_statement_file(io.BytesIO(HEADER.encode() + b"\n"))
