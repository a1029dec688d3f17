"""Payout accounts are valid by construction: a pain.001 never carries an account the bank
cannot route (issue 9, item 2)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from importlib import resources
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, payable
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.figures import PayableDay
from settlement.payouts.napas_banks import NAPAS_BANKS, napas_bank
from settlement.payouts.pain001 import NAME_MAX, BankAccount, PayeeDirectory, account_problems, payout_instruction

T = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")
TREASURY = BankAccount("970436", "0011004455667", "Kho bac Nha nuoc Ha Noi")
SCHEMA = etree.XMLSchema(etree.parse(str(resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd")))


def test_the_napas_list_names_each_member_once_by_its_6_digit_bin() -> None:
    assert len(NAPAS_BANKS) >= 60
    assert all(len(b) == 6 and b.isdigit() and NAPAS_BANKS[b].bank_bin == b for b in NAPAS_BANKS)
    assert NAPAS_BANKS["970436"].short_name == "Vietcombank"
    assert napas_bank("970415") == NAPAS_BANKS["970415"]
    assert NAPAS_BANKS["970415"].code == "ICB"
    assert napas_bank("123456") is None


@pytest.mark.parametrize(
    ("bank_bin", "account_no", "name", "problem"),
    [
        ("97040", "1500201095555", "So Tu phap", "'97040' is not a 6-digit BIN"),
        ("123456", "1500201095555", "So Tu phap", "123456 is not a NAPAS member bank"),
        ("970405", "", "So Tu phap", "account_no '' is not 1-19 letters or digits"),
        ("970405", "1" * 20, "So Tu phap", "is not 1-19 letters or digits"),
        ("970405", "1500 2010", "So Tu phap", "is not 1-19 letters or digits"),
        ("970405", "1500201095555", "", "name is empty"),
        ("970405", "1500201095555", "   ", "name is empty"),
        ("970405", "1500201095555", "A" * (NAME_MAX + 1), f"at most {NAME_MAX}"),
        ("970405", "1500201095555", "Sở <Tư> pháp", "cannot carry ('<' '>')"),
        ("970405", "1500201095555", "Sở Tư\npháp", "cannot carry"),
        ("970405", "1500201095555", "Công ty 東京", "cannot carry ('東' '京')"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(bank_bin: str, account_no: str, name: str, problem: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        BankAccount(bank_bin, account_no, name)
    assert problem in str(refused.value)


def test_every_problem_of_an_account_is_named_at_once() -> None:
    assert len(account_problems("9704", "", "")) == 3
    assert account_problems(970436, None, 7) == [
        "bank_bin 970436 is not a 6-digit BIN",
        "account_no None is not 1-19 letters or digits",
        "name is empty",
    ]
    assert account_problems("970436", "0011004455667", "Kho bạc Nhà nước Hà Nội (KBNN) - Q.1/2") == []


def test_a_vietnamese_name_typed_with_combining_marks_is_kept_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Sở Tư pháp Hà Nội")
    account = BankAccount("970405", "1500201095555", "  " + decomposed)
    assert account.name == "Sở Tư pháp Hà Nội"
    long_but_fits = unicodedata.normalize("NFD", "Đ" * NAME_MAX)  # 140 code points decomposed, 70 printed
    assert BankAccount("970405", "1", long_but_fits).name == "Đ" * NAME_MAX


def _batch(sequence: int = 1) -> SettlementBatch:
    return SettlementBatch.close(
        payee_account=AGENCY,
        business_date=date(2026, 11, 23),
        sequence=sequence,
        payout_date=date(2026, 11, 24),
        day=PayableDay(gross_vnd=200_000, transfers=1),
        postings=[f"{uuid4()}#1"],
        earlier_vnd=0,
        book_entry=sequence,
        closed_by="ketoan.nguyen",
        at=T,
    )


@given(st.text(max_size=80))
def test_any_name_an_account_accepts_makes_a_schema_valid_payout(name: str) -> None:
    try:
        payee = BankAccount("970405", "1500201095555", name)
    except InvalidValue:
        return
    document = payout_instruction(
        message_id="CSP-PROPERTY",
        created_at=T,
        execution_date=date(2026, 11, 24),
        debtor=TREASURY,
        batches=[_batch()],
        payees=PayeeDirectory({AGENCY: payee}),
    )
    tree = etree.fromstring(document)
    SCHEMA.assertValid(tree)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert tree.findtext(".//p:Cdtr/p:Nm", namespaces=ns) == payee.name, "the name is carried whole, never cut"


def test_a_closed_batch_is_reissued_once_per_message_and_never_after_it_was_paid() -> None:
    batch = _batch()
    payee = {"bank_bin": "970405", "account_no": "1500201095555", "name": "So Tu phap"}
    batch.reissue_payout("CSR-1", payee, "ketoan.tran", T)
    assert batch.reissues == ["CSR-1"]
    with pytest.raises(InvalidTransition, match="already issued"):
        batch.reissue_payout("CSR-1", payee, "ketoan.tran", T)
    with pytest.raises(InvalidValue, match="finance user"):
        batch.reissue_payout("CSR-2", payee, " ", T)
    batch.match("stmt#1", T)
    with pytest.raises(InvalidTransition):
        batch.reissue_payout("CSR-3", payee, "ketoan.tran", T)
    replayed = None
    for event in batch.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(batch)
