"""camt.053/054 against the real samples (expected figures from SOURCES.md) and generated files."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from settlement.statements import BalanceRole, Direction, StatementError, StatementFormat, read_statement_file
from tests.support.statements import GenLine, write_camt053
from tests.unit.settlement.fixtures import load


def _movement_ok(name: str) -> bool:
    statement = load(name).statements[0].statement
    opening, closing = statement.balance(BalanceRole.OPENING), statement.balance(BalanceRole.CLOSING)
    assert opening is not None
    assert closing is not None
    return opening.amount_minor + sum(e.signed_minor for e in statement.entries) == closing.amount_minor


def test_v4_batches_reversals_charges_and_balances() -> None:
    parsed = load("camt053_v4_batch_reversal_charges__viafintech.xml")
    assert parsed.format is StatementFormat.CAMT053
    statement = parsed.statements[0].statement
    assert (statement.version, statement.account, statement.currency) == ("001.04", "CH0309000000250090342", "CHF")
    assert len(statement.entries) == 13
    assert sum(len(e.details) for e in statement.entries) == 32
    assert [b.count for e in statement.entries for b in e.batches] == [10, 8, 3, 2, 1, 1, 1]
    reversed_entries = [e for e in statement.entries if e.reversal]
    assert [(e.direction, e.amount_minor) for e in reversed_entries] == [
        (Direction.DEBIT, 600),
        (Direction.DEBIT, 1553),
    ]
    assert sum(1 for e in statement.entries for d in e.details if d.end_to_end_id) == 5
    charges = [e.charges for e in statement.entries if e.charges] + [
        d.charges for e in statement.entries for d in e.details if d.charges
    ]
    assert len(charges) == 14
    assert {e.bank_tx_code for e in statement.entries} >= {"ACMT/ADOP/CHRG", "PMNT/RCDT/CHRG"}
    opening = statement.balance(BalanceRole.OPENING)
    closing = statement.balance(BalanceRole.CLOSING)
    assert opening is not None
    assert closing is not None
    assert (opening.amount_minor, closing.amount_minor) == (32215216, 32268977)
    assert opening.amount_minor + sum(e.signed_minor for e in statement.entries) == closing.amount_minor  # +537.61


def test_v2_batch_with_end_to_end_ids_reconciles_from_prcd() -> None:
    statement = load("camt053_v2_batch__viafintech.xml").statements[0].statement
    assert [b.code for b in statement.balances] == ["PRCD", "CLBD"]
    assert len(statement.entries) == 4
    batch_entry = statement.entries[3]
    assert batch_entry.batches[0].count == 2
    assert [d.amount_minor for d in batch_entry.details] == [350, 250]  # v2: AmtDtls/TxAmt
    assert sum(1 for e in statement.entries for d in e.details if d.end_to_end_id) == 3  # NOTPROVIDED dropped
    assert _movement_ok("camt053_v2_batch__viafintech.xml")  # 33.06 - 10.00 = 23.06


def test_v2_minimal_keeps_each_balance_in_its_own_currency() -> None:
    statement = load("camt053_v2_minimal__genkgo.xml").statements[0].statement
    assert [(b.code, b.currency) for b in statement.balances] == [
        ("OPBD", "EUR"),
        ("CLBD", "SEK"),
        ("OPAV", "CHF"),
        ("CLAV", "JPY"),
    ]
    entry = statement.entries[0]
    assert (entry.direction, entry.reversal, entry.bank_tx_code) == (Direction.CREDIT, False, "544")
    assert entry.details[0].creditor_reference == "4654654654654654"
    assert entry.value_date == date(2015, 1, 2)


def test_v8_uetr_status_code_and_foreign_currency_entry() -> None:
    statement = load("camt053_v8_uetr_fx__viafintech.xml").statements[0].statement
    assert statement.entries[0].details[0].uetr == "d0826d0f-a005-5e3b-b3dc-54da4ac7f0d0"
    assert {e.status for e in statement.entries} == {"BOOK"}
    eur = next(e for e in statement.entries if e.currency == "EUR")
    assert (eur.direction, eur.amount_minor, eur.instructed_minor, eur.instructed_currency) == (
        Direction.DEBIT,
        2097,
        1969,
        "CHF",
    )
    assert not _movement_ok("camt053_v8_uetr_fx__viafintech.xml")  # the sample's balances were edited


def test_camt054_notifications() -> None:
    v4 = load("camt054_v4_batch_reversal_charges__viafintech.xml").statements[0].statement
    assert (v4.kind, len(v4.entries), v4.balances) == ("camt.054", 4, ())
    assert sum(len(e.details) for e in v4.entries) == 5
    assert sum(e.reversal for e in v4.entries) == 2
    v8 = load("camt054_v8_uetr_minimal__genkgo.xml").statements[0].statement
    assert (v8.entries[0].amount_minor, v8.entries[0].currency) == (20000000, "SEK")
    assert v8.entries[0].details[0].uetr == "255ae394-9965-4438-ac86-f406feada396"
    assert v8.entries[0].bank_tx_code is None


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
def test_every_version_by_namespace(version: str) -> None:
    out = io.StringIO()
    lines = [GenLine(150_000, acct_svcr_ref="FT1", end_to_end_id="E1", remittance="CS note"), GenLine(20_000, "DBIT")]
    closing = write_camt053(out, lines, version=version, opening_vnd=1_000)
    statement = read_statement_file(io.BytesIO(out.getvalue().encode())).statements[0].statement
    assert statement.version == f"001.{version}"
    assert [(e.direction, e.amount_minor) for e in statement.entries] == [
        (Direction.CREDIT, 150_000),
        (Direction.DEBIT, 20_000),
    ]
    assert statement.entries[0].details[0].amount_minor == 150_000
    assert statement.entries[0].details[0].counterparty is not None
    closing_balance = statement.balance(BalanceRole.CLOSING)
    assert closing_balance is not None
    assert closing_balance.amount_minor == closing == 131_000


def test_malformed_xml_is_a_statement_error() -> None:
    out = io.StringIO()
    write_camt053(out, [GenLine(1_000, acct_svcr_ref="FT1")])
    with pytest.raises(StatementError, match="well-formed"):
        read_statement_file(io.BytesIO(out.getvalue().encode()[:-40]))


def test_bad_amount_names_the_entry_or_the_balance() -> None:
    out = io.StringIO()
    write_camt053(out, [GenLine(1_000, acct_svcr_ref="FT1")])
    entry = out.getvalue().replace('<Ntry>\n      <Amt Ccy="VND">1000</Amt>', '<Ntry><Amt Ccy="VND">10.50</Amt>', 1)
    with pytest.raises(StatementError, match="entry 1"):
        read_statement_file(io.BytesIO(entry.encode()))
    balance = out.getvalue().replace('<Amt Ccy="VND">1000</Amt>', '<Amt Ccy="VND">1.000</Amt>', 1)
    with pytest.raises(StatementError, match=r"balance CLBD: amount '1\.000'.*Vietnamese notation 1\.000 is 1000 VND"):
        read_statement_file(io.BytesIO(balance.encode()))


XXE = '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
BOMB = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {"b" * (n + 1)} "{("&" + ("b" * n if n else "a") + ";") * 10}">' for n in range(9)
)


@pytest.mark.parametrize("doctype", [XXE, BOMB + "]>"])
def test_a_document_with_a_dtd_is_refused_saying_why(doctype: str) -> None:
    out = io.StringIO()
    write_camt053(out, [GenLine(1_000, acct_svcr_ref="FT1", remittance="ID-&x;-END")], statement_id="ID-&x;-END")
    text = out.getvalue().replace('<?xml version="1.0" encoding="UTF-8"?>', doctype)
    text = text.replace("&x;", "&bbbbbbbbb;") if doctype.startswith(BOMB) else text
    with pytest.raises(StatementError, match=r"declares a DTD .* entity bomb.*external entities"):
        read_statement_file(io.BytesIO(text.encode()))


def test_the_root_element_decides_whether_xml_is_camt() -> None:
    other = (
        '<?xml version="1.0"?><Document xmlns="urn:example:invoice" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08 camt.053.001.08.xsd"><Stmt/></Document>'
    )
    with pytest.raises(StatementError, match=r"not an ISO 20022 camt\.053 or camt\.054 document.*urn:example:invoice"):
        read_statement_file(io.BytesIO(other.encode()))


def test_a_camt_document_without_statements_is_refused() -> None:
    empty = (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr></BkToCstmrStmt></Document>"
    )
    with pytest.raises(StatementError, match=r"holds no statement \(no Stmt in the camt\.053 document"):
        read_statement_file(io.BytesIO(empty.encode()))


def _notification(lines: list[GenLine]) -> str:
    """The generated camt.053 as a camt.054 without BookgDt (optional there)."""
    out = io.StringIO()
    write_camt053(out, lines)
    text = re.sub(r"<BookgDt>.*?</BookgDt>|<Bal>.*?</Bal>", "", out.getvalue())
    for old, new in (("camt.053", "camt.054"), ("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn"), ("Stmt>", "Ntfctn>")):
        text = text.replace(old, new)
    return text


def test_camt054_without_booking_dates_takes_the_value_date_else_the_creation_day() -> None:
    text = _notification([GenLine(1_000, acct_svcr_ref="FT1"), GenLine(2_000, acct_svcr_ref="FT2")])
    text = text.replace("<ValDt><Dt>2026-11-23</Dt></ValDt>", "", 1)  # the first entry has no date at all
    statement = read_statement_file(io.BytesIO(text.encode())).statements[0].statement
    assert [(e.booking_date, e.value_date) for e in statement.entries] == [
        (date(2026, 11, 24), None),  # the notification's CreDtTm, 2026-11-24T06:00:00+07:00
        (date(2026, 11, 23), date(2026, 11, 23)),
    ]
    assert statement.dates() == (date(2026, 11, 23), date(2026, 11, 24))
    sample = load("camt054_v8_uetr_minimal__genkgo.xml").statements[0].statement
    assert sample.entries[0].booking_date == date(2007, 10, 18)
    # Without the notification's own CreDtTm (optional), the message's GrpHdr/CreDtTm dates it.
    text = text.replace(
        "<GrpHdr><MsgId>M-S1</MsgId><CreDtTm>2026-11-24", "<GrpHdr><MsgId>M-S1</MsgId><CreDtTm>2026-11-25"
    )
    text = text.replace("<Id>S1</Id><CreDtTm>2026-11-24T06:00:00+07:00</CreDtTm>", "<Id>S1</Id>")
    statement = read_statement_file(io.BytesIO(text.encode())).statements[0].statement
    assert statement.entries[0].booking_date == date(2026, 11, 25)
