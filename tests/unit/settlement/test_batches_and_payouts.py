from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time
from importlib import resources
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.ledger import PartyKind, Side, payable
from settlement.payouts.batches import BatchStatus, SettlementBatch, batch_id
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.figures import CashWithheld, PayableDay
from settlement.payouts.pain001 import BankAccount, PayeeDirectory, payout_instruction
from settlement.payouts.payables import category_of
from settlement.payouts.payout_book import PayoutBook

OPERATOR = payable(PartyKind.OPERATOR, "hanoi-parking")
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")
T = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TREASURY = BankAccount("970436", "0011004455667", "Kho bac Nha nuoc Ha Noi")
PAYEES = PayeeDirectory(
    {
        OPERATOR: BankAccount("970415", "113366668888", "Công ty TNHH MTV Khai thác điểm đỗ xe Hà Nội"),
        AGENCY: BankAccount("970405", "1500201095555", "Sở Tư pháp Hà Nội"),
    }
)


def test_cutoff_assigns_late_evening_to_the_next_business_day() -> None:
    calendar = SettlementCalendar(cutoff=time(23, 0))
    before = datetime(2026, 11, 23, 22, 59, tzinfo=VIETNAM_TZ)
    after = datetime(2026, 11, 23, 23, 0, tzinfo=VIETNAM_TZ)
    assert calendar.business_date(before) == date(2026, 11, 23)
    assert calendar.business_date(after) == date(2026, 11, 24)
    start, end = calendar.window(date(2026, 11, 24))
    assert start == after.astimezone(UTC)
    assert calendar.business_date(end) == date(2026, 11, 25)
    assert calendar.payout_date(date(2026, 11, 24)) == date(2026, 11, 25)


@given(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)), st.times())
def test_every_moment_falls_in_the_window_of_its_business_day(at: datetime, cutoff: time) -> None:
    calendar = SettlementCalendar(cutoff=cutoff)
    start, end = calendar.window(calendar.business_date(at))
    assert start <= at < end


def test_categories_of_payable_entries() -> None:
    assert category_of("bank_credit.exact", Side.CREDIT) == ("gross_vnd", 1)
    assert category_of("fee.subsidy", Side.CREDIT) == ("subsidy_vnd", 1)
    assert category_of("fee.refund", Side.DEBIT) == ("refunds_vnd", 1)
    assert category_of("reversal:fee.subsidy", Side.DEBIT) == ("subsidy_vnd", -1)
    assert category_of("chargeback.card", Side.DEBIT) == ("chargebacks_vnd", 1)
    assert category_of("bank_charge.napas", Side.DEBIT) == ("bank_charges_vnd", 1)


def day(gross: int = 1_000_000, refunds: int = 50_000, charges: int = 3_300) -> PayableDay:
    return PayableDay(gross_vnd=gross, refunds_vnd=refunds, bank_charges_vnd=charges, transfers=40)


def close(payee: str = OPERATOR, figures: PayableDay | None = None, sequence: int = 1, **claim: Any) -> SettlementBatch:
    figures = figures or day()
    return SettlementBatch.close(
        payee_account=payee,
        business_date=date(2026, 11, 23),
        sequence=sequence,
        payout_date=date(2026, 11, 24),
        day=figures,
        postings=claim.get("postings", [f"{uuid4()}#1" for _ in range(figures.transfers)]),
        earlier_vnd=0,
        book_entry=claim.get("book_entry", 1),
        closed_by="ketoan.nguyen",
        at=T,
    )


def test_batch_nets_its_figures_and_has_a_traceable_end_to_end_id() -> None:
    batch = close()
    assert batch.net_vnd == 1_000_000 - 50_000 - 3_300
    assert batch.id == batch_id(OPERATOR, date(2026, 11, 23), 1)
    assert len(batch.end_to_end_id) <= 35
    assert close(sequence=2).id != batch.id


def test_batch_transitions() -> None:
    batch = close()
    batch.match("stmt-1/entry-9", T)
    assert batch.status is BatchStatus.MATCHED
    with pytest.raises(InvalidTransition):
        batch.mark_returned("account closed", T)
    returned = close()
    returned.mark_returned("AC04 closed account", T)
    assert returned.status is BatchStatus.RETURNED
    with pytest.raises(InvalidTransition):
        returned.match("x", T)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"figures": PayableDay(gross_vnd=10, refunds_vnd=10)},
        {"sequence": 0},
        {"sequence": 21},
        {"book_entry": 0},
        {"postings": ["a#0"] * 40},  # the same posting twice
        {"postings": ["a#0"]},  # fewer postings than the figures sum
    ],
)
def test_invalid_batches_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        close(**kwargs)  # type: ignore[arg-type]


def test_replay_reproduces_a_batch() -> None:
    batch = close()
    batch.match("e", T)
    replayed = None
    for event in batch.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(batch)


def _schema() -> etree.XMLSchema:
    xsd = resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def test_payout_file_is_valid_pain_001_with_one_transfer_per_batch() -> None:
    batches = [close(OPERATOR), close(AGENCY, day(gross=200_000, refunds=0, charges=0))]
    document = payout_instruction(
        message_id="CS-PAYOUT-20261124-1",
        created_at=T,
        execution_date=date(2026, 11, 24),
        debtor=TREASURY,
        batches=batches,
        payees=PAYEES,
    )
    tree = etree.fromstring(document)
    _schema().assertValid(tree)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert tree.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert tree.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == str(946_700 + 200_000)
    amounts = {
        e.findtext("p:PmtId/p:EndToEndId", namespaces=ns): e.find("p:Amt/p:InstdAmt", namespaces=ns)
        for e in tree.iterfind(".//p:CdtTrfTxInf", namespaces=ns)
    }
    assert amounts[batches[0].end_to_end_id].text == "946700"
    assert amounts[batches[0].end_to_end_id].get("Ccy") == "VND"
    assert "Sở Tư pháp Hà Nội" in document.decode()


def test_payout_needs_known_payees_and_batches() -> None:
    with pytest.raises(NotFound):
        payout_instruction(
            message_id="m",
            created_at=T,
            execution_date=date(2026, 11, 24),
            debtor=TREASURY,
            batches=[close(payable(PartyKind.MERCHANT, "unknown"))],
            payees=PAYEES,
        )
    with pytest.raises(InvalidValue):
        payout_instruction(
            message_id="m", created_at=T, execution_date=date(2026, 11, 24), debtor=TREASURY, batches=[], payees=PAYEES
        )


def test_a_batch_stored_before_batches_claimed_postings_is_read_as_it_paid() -> None:
    mapper = build_mapper(CodecOptions())
    stored = mapper.to_stored_event(close().collect_events()[0])
    state = json.loads(stored.state)
    for field in ("postings", "earlier_vnd", "book_entry", "cash", "class_version"):
        del state[field]
    state["figures"]["paid_out_vnd"] = 500_000  # version 1 figures counted earlier batches of the day
    state["net_vnd"] = 446_700
    event: Any = mapper.to_domain_event(dataclasses.replace(stored, state=json.dumps(state).encode()))
    batch = event.mutate(None)
    assert isinstance(batch, SettlementBatch)
    assert (batch.net_vnd, batch.postings, batch.book_entry, batch.earlier_vnd) == (446_700, (), 0, 0)
    assert (batch.figures, batch.cash) == (day(), CashWithheld())


def test_a_book_entry_stored_before_cash_was_withheld_withheld_none() -> None:
    mapper = build_mapper(CodecOptions())
    book = PayoutBook.open(OPERATOR, T)
    book.record(uuid4(), "2026-11-23", 100_000, CashWithheld(claimed_vnd=5, after_vnd=5), T)
    opened, recorded = (mapper.to_stored_event(e) for e in book.collect_events())
    state = json.loads(recorded.state)
    for field in ("cash_claimed_vnd", "cash_held_vnd", "class_version"):
        del state[field]
    old = dataclasses.replace(recorded, state=json.dumps(state).encode())
    replayed: Any = None
    for stored in (opened, old):
        event: Any = mapper.to_domain_event(stored)
        replayed = event.mutate(replayed)
    assert (replayed.batches, replayed.paid_vnd, replayed.cash_claimed_vnd, replayed.cash_held_vnd) == (
        1,
        100_000,
        0,
        0,
    )
