"""MT940 against the real samples (expected figures from SOURCES.md)."""

from __future__ import annotations

import io
from datetime import date

import pytest

from settlement.statements import (
    BalanceRole,
    Direction,
    RepeatedStatement,
    StatementError,
    StatementFile,
    StatementFormat,
    distinct,
    read_statement_file,
    statement_identity,
)
from tests.unit.settlement.fixtures import load


def test_sepa_file_has_26_statements_that_reconcile_with_rc_as_debit() -> None:
    parsed = load("mt940_sepa_batch_reversal__wolph-mt940.sta")
    assert parsed.format is StatementFormat.MT940
    statements = [i.statement for i in parsed.statements]
    assert len(statements) == 26
    assert sum(len(s.entries) for s in statements) == 97
    for statement in statements:
        opening, closing = statement.balance(BalanceRole.OPENING), statement.balance(BalanceRole.CLOSING)
        assert opening is not None
        assert closing is not None
        assert opening.amount_minor + sum(e.signed_minor for e in statement.entries) == closing.amount_minor
    assert sum(1 for s in statements if s.balance(BalanceRole.CLOSING_AVAILABLE) is not None) == 20  # the :64: lines
    storno = [e for s in statements for e in s.entries if e.reversal]
    assert [(e.direction, e.amount_minor) for e in storno] == [(Direction.DEBIT, 20488), (Direction.DEBIT, 20488)]


def test_sepa_structured_field_86() -> None:
    statements = [i.statement for i in load("mt940_sepa_batch_reversal__wolph-mt940.sta").statements]
    first = statements[0].entries[0]
    assert (first.booking_date, first.acct_svcr_ref, first.bank_tx_code) == (
        date(2007, 9, 4),
        "0724710345313905",
        "NTRF",
    )
    detail = first.details[0]
    assert (detail.end_to_end_id, detail.return_reason, detail.additional_info) == (
        "TFNR 40005 00005",
        "914",
        "RETOURE",
    )
    e2e = [d.end_to_end_id for s in statements for e in s.entries for d in e.details if d.end_to_end_id]
    assert len(e2e) == 55  # 62 EREF+ of which 7 say NONREF
    assert "EndToEndIdTFNR2000400001" in e2e  # an id continued from ?20 into ?21
    credit = next(e for s in statements for e in s.entries if e.details[0].counterparty)
    party = credit.details[0].counterparty
    assert party is not None
    assert party.account is not None


def test_abn_amro_multi_part_statement() -> None:
    statements = [i.statement for i in load("mt940_abnamro__wolph-mt940.sta").statements]
    assert [len(s.entries) for s in statements] == [8, 2]
    assert [s.statement_id for s in statements] == ["ABN AMRO BANK NV/19321/1", "ABN AMRO BANK NV/19322/1"]
    assert [(b.code, b.role) for b in statements[1].balances] == [
        ("ITBD", BalanceRole.OPENING),
        ("ITBD", BalanceRole.CLOSING),
    ]
    assert all(e.direction is Direction.DEBIT for s in statements for e in s.entries)
    assert statements[0].entries[0].amount_minor == 900  # "9," is 9.00 EUR
    assert "BETREFT FACTUUR" in statements[0].entries[0].details[0].remittance


def test_block_format_and_malformed_line() -> None:
    good = b"{1:F01BANKDEFFXXXX0000000000}{2:O940}{4:\n:20:REF\n:25:DE00123\n:28C:1/1\n:60F:C261123VND0,\n"
    good += b":61:2611231123C150000,NTRFFT1//BANKREF1\n:86:CS note\n:62F:C261123VND150000,\n-}\n"
    statement = read_statement_file(io.BytesIO(good)).statements[0].statement
    assert (statement.currency, statement.entries[0].amount_minor, statement.entries[0].acct_svcr_ref) == (
        "VND",
        150000,
        "BANKREF1",
    )
    with pytest.raises(StatementError, match="MT940 message 1"):
        read_statement_file(io.BytesIO(good.replace(b"C150000,NTRF", b"X150000,NTRF")))


ENVELOPE = "{1:F01BANKVNVXAXXX0000000000}{2:O9401200261123BANKVNVXAXXX00000000002611231200N}{4:"


def _message(account: str, reference: str = "STMT", amounts: tuple[int, ...] = (150_000,), closing: bool = True) -> str:
    lines = [f":20:{reference}", f":25:{account}", ":28C:1/1", ":60F:C261122VND1000,"]
    for n, amount in enumerate(amounts):
        lines += [f":61:2611231123C{amount},NTRFFT{n}//B{account}{n}", f":86:CS note {n}"]
    if closing:
        lines.append(f":62F:C261123VND{1000 + sum(amounts)},")
    return "\n".join(lines) + "\n"


def _read(text: str) -> StatementFile:
    return read_statement_file(io.BytesIO(text.encode()))


def test_same_reference_and_sequence_with_other_content_are_separate_statements() -> None:
    parsed = _read(_message("111", amounts=(150_000,)) + "-\n" + _message("111", amounts=(20_000, 30_000)) + "-\n")
    assert [len(i.statement.entries) for i in parsed.statements] == [1, 2]
    assert parsed.repeated == ()
    assert len(distinct([parsed])) == 2  # neither is dropped as "the same statement"
    assert parsed.statements[0].identity == statement_identity(parsed.file_sha256, "111", "STMT/1/1")


def test_a_message_repeated_line_for_line_is_read_once_and_said_so() -> None:
    message = _message("111", amounts=(150_000,))
    parsed = _read(message + "-\n" + _message("222") + "-\n" + message + "-\n")
    assert [i.statement.account for i in parsed.statements] == ["111", "222"]
    assert parsed.repeated == (RepeatedStatement("STMT/1/1", "111", 3, 1),)


@pytest.mark.parametrize(
    "between",
    [
        "-}{5:{CHK:0123456789AB}}\n" + ENVELOPE + "\n",  # trailer on the terminator's line
        "-}{5:{CHK:0123456789AB}}{1:F01BANKVNVXAXXX0000000000}{2:O940}{3:{108:MUR}}{4:\n",
        "-}\n{5:{CHK:0123456789AB}}\n" + ENVELOPE + "\n",
        "",  # no terminator at all before the next :20:
        "-\n",
    ],
)
def test_messages_split_at_every_envelope_and_every_20(between: str) -> None:
    text = ENVELOPE + "\n" + _message("111", "A", (150_000, 2_000)) + between + _message("222", "A", (7_000,)) + "-}\n"
    statements = [i.statement for i in _read(text).statements]
    assert [(s.account, len(s.entries)) for s in statements] == [("111", 2), ("222", 1)]
    assert [e.acct_svcr_ref for e in statements[1].entries] == ["B2220"]
    for statement in statements:
        opening, closing = statement.balance(BalanceRole.OPENING), statement.balance(BalanceRole.CLOSING)
        assert opening is not None
        assert closing is not None
        assert opening.amount_minor + sum(e.signed_minor for e in statement.entries) == closing.amount_minor


def test_a_message_without_its_closing_balance_is_refused_by_name() -> None:
    with pytest.raises(StatementError, match=r"MT940 message 2 \(:20: CUT\): no closing balance :62F:"):
        _read(_message("111") + "-\n" + _message("222", "CUT", closing=False) + "-\n")


def test_an_mt942_is_refused_as_an_interim_report() -> None:
    mt942 = ":20:INTRADAY\n:25:111\n:28C:1/1\n:34F:VND0,\n:13D:2611231200+0700\n"
    mt942 += ":61:2611231123C150000,NTRFFT1//B1\n:86:note\n:90C:1VND150000,\n-\n"
    with pytest.raises(StatementError, match="MT942 interim transaction report"):
        _read(mt942)
    enveloped = "{1:F01BANKVNVXAXXX0000000000}{2:O9421200261123BANKVNVXAXXX00000000002611231200N}{4:\n"
    with pytest.raises(StatementError, match="MT942"):
        _read(enveloped + _message("111") + "-}\n")
