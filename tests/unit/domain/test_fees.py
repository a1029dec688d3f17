from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.fees import FeeInvoice, FeeService, InvoiceStatus, SubsidyRule
from tests.support.catalogue import CATALOGUE

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def issue(service_code: str = "LLTP-01", channel: str = "counter", no: str = "HS-0001") -> FeeInvoice:
    return FeeInvoice.issue(
        invoice_no=no, payer_id="001099012345", service=CATALOGUE[service_code], channel=channel, at=T0
    )


def test_full_price_at_the_counter() -> None:
    invoice = issue()
    assert (invoice.amount_vnd, invoice.subsidy_vnd, invoice.payer_due_vnd) == (200_000, 0, 200_000)
    assert invoice.status is InvoiceStatus.ISSUED


def test_vneid_applications_are_fully_subsidised_and_paid_on_issue() -> None:
    invoice = issue(channel="vneid")
    assert (invoice.subsidy_vnd, invoice.payer_due_vnd, invoice.budget_id) == (200_000, 0, "ngan-sach-ha-noi")
    assert invoice.status is InvoiceStatus.PAID
    assert "VNeID" in invoice.legal_basis
    with pytest.raises(InvalidTransition):
        invoice.request_payment("CS00000000", T0)


def test_partial_subsidy_splits_the_amount_exactly() -> None:
    invoice = issue(channel="online")
    assert invoice.subsidy_vnd + invoice.payer_due_vnd == invoice.amount_vnd == 200_000
    assert invoice.payer_due_vnd == 100_000


def test_paid_only_by_the_requested_payment_then_refundable_up_to_what_was_paid() -> None:
    invoice = issue()
    invoice.request_payment("CSAAAAAAAA", T0)
    with pytest.raises(InvalidTransition, match="not requested"):
        invoice.mark_paid("CSBBBBBBBB", T0)
    invoice.mark_paid("CSAAAAAAAA", T0)
    with pytest.raises(InvalidValue):
        invoice.refund(200_001, "x", T0)
    invoice.refund(200_000, "service not delivered", T0)
    assert (invoice.status, invoice.refunded_vnd) == (InvoiceStatus.REFUNDED, 200_000)
    with pytest.raises(InvalidTransition):
        invoice.cancel("x", T0)
    with pytest.raises(InvalidTransition):
        invoice.refund(1, "x", T0)


def test_a_new_payment_after_a_lapsed_one_and_either_pays_the_invoice() -> None:
    for paying in ("CSAAAAAAAA", "CSBBBBBBBB"):
        invoice = issue()
        invoice.request_payment("CSAAAAAAAA", T0)
        invoice.request_payment("CSBBBBBBBB", T0)
        with pytest.raises(InvalidTransition, match="already requested"):
            invoice.request_payment("CSAAAAAAAA", T0)
        assert (invoice.payment_reference, invoice.payment_references) == ("CSBBBBBBBB", ["CSAAAAAAAA", "CSBBBBBBBB"])
        invoice.mark_paid(paying, T0)
        assert invoice.status is InvoiceStatus.PAID
        replayed = None
        for event in invoice.collect_events():
            replayed = event.mutate(replayed)
        assert vars(replayed) == vars(invoice)


def test_cancel_only_while_issued() -> None:
    invoice = issue()
    invoice.cancel("applicant withdrew", T0)
    assert invoice.status is InvoiceStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        invoice.mark_paid("CSAAAAAAAA", T0)


def test_catalogue_and_rules_validate() -> None:
    with pytest.raises(NotFound):
        CATALOGUE["NO-SUCH"]
    with pytest.raises(InvalidValue):
        SubsidyRule("vneid", 0, "b", "x")
    with pytest.raises(InvalidValue):
        FeeInvoice.issue(invoice_no="", payer_id="p", service=CATALOGUE["TP-CT-01"], channel="c", at=T0)


def test_replay_reproduces_the_invoice() -> None:
    invoice = issue()
    invoice.request_payment("CSAAAAAAAA", T0)
    invoice.mark_paid("CSAAAAAAAA", T0)
    replayed = None
    for event in invoice.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(invoice)


def paid_online() -> FeeInvoice:
    """LLTP-01 applied for online: the budget pays 100,000, the payer paid 100,000."""
    invoice = issue(channel="online")
    invoice.request_payment("CSAAAAAAAA", T0)
    invoice.mark_paid("CSAAAAAAAA", T0)
    return invoice


def test_a_fully_subsidised_invoice_issued_by_mistake_is_cancelled_not_refunded() -> None:
    invoice = issue(channel="vneid")
    with pytest.raises(InvalidTransition, match="cancel it"):
        invoice.refund(1, "issued by mistake", T0)
    invoice.cancel("issued by mistake", T0)
    assert (invoice.status, invoice.subsidy_returned_vnd) == (InvoiceStatus.CANCELLED, 200_000)
    with pytest.raises(InvalidTransition):
        invoice.cancel("again", T0)


def test_an_invoice_the_payer_paid_is_refunded_not_cancelled() -> None:
    invoice = paid_online()
    with pytest.raises(InvalidTransition, match="refund"):
        invoice.cancel("applicant withdrew", T0)
    assert invoice.status is InvoiceStatus.PAID


def test_a_full_refund_gives_the_budget_its_whole_share_back() -> None:
    invoice = paid_online()
    assert invoice.refund(100_000, "application rejected", T0) == 100_000
    assert (invoice.refunded_vnd, invoice.subsidy_returned_vnd) == (100_000, 100_000)


def test_a_partial_refund_gives_the_budget_the_same_proportion_of_its_share() -> None:
    invoice = paid_online()
    assert invoice.refund(30_000, "partly not delivered", T0) == 30_000
    assert invoice.subsidy_returned_vnd == 30_000


def test_a_refund_recorded_before_the_budget_got_its_share_back_reads_as_returning_nothing() -> None:
    mapper = build_mapper(CodecOptions())
    invoice = paid_online()
    invoice.refund(100_000, "application rejected", T0)
    events = invoice.collect_events()
    stored = mapper.to_stored_event(events[-1])
    state = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["subsidy_returned_vnd"]
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, mapper.transcoder.encode(state))
    replayed: Any = None
    history: list[Any] = [*events[:-1], mapper.to_domain_event(old)]
    for event in history:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, FeeInvoice)
    assert (replayed.status, replayed.refunded_vnd, replayed.subsidy_returned_vnd) == (
        InvoiceStatus.REFUNDED,
        100_000,
        0,
    )


@given(
    amount_vnd=st.integers(1, 50_000_000),
    percent=st.integers(1, 99),
    refund_permille=st.one_of(st.just(1000), st.integers(0, 1000)),
)
def test_refunds_never_give_back_more_than_the_fee_and_a_full_one_gives_back_all_of_it(
    amount_vnd: int, percent: int, refund_permille: int
) -> None:
    service = FeeService("X-1", "x", "agency", amount_vnd, "basis", (SubsidyRule("online", percent, "budget", "rule"),))
    invoice = FeeInvoice.issue(invoice_no="HS-P", payer_id="p", service=service, channel="online", at=T0)
    invoice.request_payment("CSAAAAAAAA", T0)
    invoice.mark_paid("CSAAAAAAAA", T0)
    refund_vnd = max(1, invoice.payer_due_vnd * refund_permille // 1000)
    returned_vnd = invoice.refund(refund_vnd, "r", T0)
    assert 0 <= returned_vnd <= invoice.subsidy_vnd
    assert refund_vnd + returned_vnd <= invoice.amount_vnd
    # The budget's share shrinks in the same proportion as the payer's, short by under one đồng.
    assert returned_vnd * invoice.payer_due_vnd <= invoice.subsidy_vnd * refund_vnd
    assert invoice.subsidy_vnd * refund_vnd < (returned_vnd + 1) * invoice.payer_due_vnd
    if refund_vnd == invoice.payer_due_vnd:
        assert refund_vnd + returned_vnd == invoice.amount_vnd
