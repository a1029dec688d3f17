from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.fees import FeeInvoice, InvoiceStatus, SubsidyRule
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
