"""Fees paid by dynamic QR, end to end through the use cases, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import pytest

from domain.model.errors import InvalidTransition
from domain.model.ledger import PartyKind, bank_clearing, payable, refunds_payable, subsidy, suspense
from domain.model.payments import PaymentPurpose
from domain.model.transfers import Transfer, transfer_id
from domain.ports import IdempotencyKeyReused
from domain.services.fees import (
    cancel_fee_invoice,
    get_invoice,
    issue_fee_invoice,
    refund_fee_invoice,
    settle_invoice_on_payment,
)
from domain.services.payments import BankNotice, credit_bank_transfer, expire_payment, new_payment
from domain.services.unit_of_work import RequestKey, UnitOfWork, execute
from tests.support.catalogue import CATALOGUE, TREASURY
from tests.support.ledger import posted_balances
from tests.support.settlement import claim_for

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BANK = bank_clearing(TREASURY.bank_bin, TREASURY.account_no)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")
ON_PAID = {PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment}


def issue(no: str, channel: str = "counter") -> Any:
    return issue_fee_invoice(
        CATALOGUE,
        invoice_no=no,
        payer_id="001099012345",
        service_code="LLTP-01",
        channel=channel,
        collection=TREASURY,
        at=T0,
    )


def notice(tx: str, amount: int, note: str, minutes: int = 2) -> BankNotice:
    return BankNotice(TREASURY.bank_bin, TREASURY.account_no, tx, amount, note, T0 + timedelta(minutes=minutes))


async def test_invoice_paid_by_qr_transfer(store: Any) -> None:
    issued = (await execute(store, issue("HS-1"))).result
    reference = issued["payment"]["reference"]
    credit = await execute(
        store, credit_bank_transfer(notice("FT1", 200_000, f"MBVCB.123.{reference}.le phi"), T0, ON_PAID)
    )
    assert credit.result["outcome"] == "exact"
    assert (await get_invoice("HS-1")(UnitOfWork(store)))["status"] == "paid"
    assert await posted_balances(store, BANK, AGENCY, suspense()) == {BANK: 200_000, AGENCY: 200_000, suspense(): 0}


async def test_fully_subsidised_invoice_is_paid_by_the_budget(store: Any) -> None:
    issued = (await execute(store, issue("HS-2", channel="vneid"))).result
    assert issued["status"] == "paid"
    assert "payment" not in issued
    assert await posted_balances(store, subsidy("ngan-sach-ha-noi"), AGENCY) == {
        subsidy("ngan-sach-ha-noi"): 200_000,
        AGENCY: 200_000,
    }


async def test_partial_overpaid_late_duplicate_and_unmatched_credits(store: Any) -> None:
    reference = (await execute(store, issue("HS-3", channel="online"))).result["payment"]["reference"]
    partial = await execute(store, credit_bank_transfer(notice("FT1", 60_000, reference), T0, ON_PAID))
    assert partial.result["payment"]["due_vnd"] == 40_000
    over = await execute(store, credit_bank_transfer(notice("FT2", 50_000, reference), T0, ON_PAID))
    assert over.result["outcome"] == "overpaid"
    duplicate = await execute(store, credit_bank_transfer(notice("FT2", 50_000, reference), T0, ON_PAID))
    assert duplicate.result["duplicate"] is True
    stray = await execute(store, credit_bank_transfer(notice("FT3", 7_000, "tien an trua"), T0, ON_PAID))
    assert stray.result["outcome"] == "unmatched"

    late_ref = (await execute(store, issue("HS-4"))).result["payment"]["reference"]
    late = await execute(
        store, credit_bank_transfer(notice("FT4", 200_000, late_ref), T0 + timedelta(hours=1), ON_PAID)
    )
    assert late.result["outcome"] == "late"
    assert (await get_invoice("HS-4")(UnitOfWork(store)))["status"] == "issued"

    totals = await posted_balances(store, BANK, AGENCY, refunds_payable(), suspense(), subsidy("ngan-sach-ha-noi"))
    assert totals == {
        BANK: 60_000 + 50_000 + 7_000 + 200_000,
        AGENCY: 200_000,
        refunds_payable(): 10_000,
        suspense(): 207_000,
        subsidy("ngan-sach-ha-noi"): 100_000,
    }
    assert totals[BANK] + totals[subsidy("ngan-sach-ha-noi")] == sum(
        totals[a] for a in (AGENCY, refunds_payable(), suspense())
    ), "the ledger balances"


async def test_idempotent_issue_and_conflicting_reuse(store: Any) -> None:
    key = RequestKey.of("counter-07", "k-1", {"invoice_no": "HS-5"})
    first = await execute(store, issue("HS-5"), key)
    again = await execute(store, issue("HS-5"), key)
    assert again.replayed
    assert again.result == first.result
    with pytest.raises(IdempotencyKeyReused):
        await execute(store, issue("HS-6"), RequestKey.of("counter-07", "k-1", {"invoice_no": "HS-6"}))
    with pytest.raises(InvalidTransition, match="already issued"):
        await execute(store, issue("HS-5"))


async def test_cancel_reverses_the_subsidy_and_refund_moves_money_to_refunds(store: Any) -> None:
    await execute(store, issue("HS-7", channel="online"))
    cancelled = await execute(store, cancel_fee_invoice("HS-7", "applicant withdrew", T0))
    assert cancelled.result["status"] == "cancelled"
    assert cancelled.result["payment"]["status"] == "cancelled"
    reference = (await execute(store, issue("HS-8"))).result["payment"]["reference"]
    await execute(store, credit_bank_transfer(notice("FT9", 200_000, reference), T0, ON_PAID))
    await execute(store, refund_fee_invoice("HS-8", 200_000, "service not delivered", T0))
    assert await posted_balances(store, AGENCY, refunds_payable(), subsidy("ngan-sach-ha-noi")) == {
        AGENCY: 0,
        refunds_payable(): 200_000,
        subsidy("ngan-sach-ha-noi"): 0,
    }


def second_qr(invoice_id: str, request: str) -> Any:
    """Another counter issues its own QR for an invoice (under its own request id)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payment = await new_payment(
            uow,
            request_id=uuid5(UUID(invoice_id), request),
            amount_vnd=200_000,
            payee_account=AGENCY,
            purpose=PaymentPurpose.FEE_INVOICE,
            purpose_id=invoice_id,
            collection=TREASURY,
            at=T0,
            ttl=timedelta(minutes=15),
        )
        return {"reference": payment.reference}

    return use_case


async def unfulfilled_kind(store: Any, invoice_id: str, reference: str) -> str:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        cause = f"fee-invoice:{invoice_id}:unfulfilled:{reference}"
        return {"kind": (await uow.get(Transfer, transfer_id(cause))).kind}

    return str((await execute(store, use_case)).result["kind"])


async def test_a_credit_for_a_cancelled_invoice_is_recorded_and_owed_back(store: Any) -> None:
    issued = (await execute(store, issue("HS-9"))).result
    other = (await execute(store, second_qr(issued["id"], "counter-2"))).result["reference"]
    await execute(store, cancel_fee_invoice("HS-9", "applicant withdrew", T0))  # cancels the invoice's own QR only

    credited = await execute(store, credit_bank_transfer(notice("FT10", 200_000, other), T0, ON_PAID))
    assert (credited.result["outcome"], credited.result["payment"]["status"]) == ("exact", "paid")
    assert (await get_invoice("HS-9")(UnitOfWork(store)))["status"] == "cancelled"
    assert await unfulfilled_kind(store, issued["id"], other) == "fee.unfulfilled.invoice_cancelled"
    expected = {BANK: 200_000, AGENCY: 0, refunds_payable(): 200_000, suspense(): 0}
    assert await posted_balances(store, *expected) == expected

    head = await store.head()
    again = await execute(store, credit_bank_transfer(notice("FT10", 200_000, other), T0, ON_PAID))
    assert (again.result["duplicate"], again.result["outcome"]) == (True, "exact")
    assert await store.head() == head
    assert await posted_balances(store, *expected) == expected


async def test_a_second_payment_of_a_refunded_invoice_is_owed_back(store: Any) -> None:
    issued = (await execute(store, issue("HS-10"))).result
    other = (await execute(store, second_qr(issued["id"], "counter-2"))).result["reference"]
    await execute(store, credit_bank_transfer(notice("FT11", 200_000, issued["payment"]["reference"]), T0, ON_PAID))
    await execute(store, refund_fee_invoice("HS-10", 200_000, "service not delivered", T0))

    late_pay = await execute(store, credit_bank_transfer(notice("FT12", 200_000, other, minutes=5), T0, ON_PAID))
    assert late_pay.result["payment"]["status"] == "paid"
    assert await unfulfilled_kind(store, issued["id"], other) == "fee.unfulfilled.invoice_refunded"
    assert await posted_balances(store, BANK, AGENCY, refunds_payable()) == {
        BANK: 400_000,
        AGENCY: 0,
        refunds_payable(): 400_000,
    }


async def test_a_second_payment_of_a_paid_invoice_is_owed_back(store: Any) -> None:
    issued = (await execute(store, issue("HS-11"))).result
    other = (await execute(store, second_qr(issued["id"], "counter-2"))).result["reference"]
    await execute(store, credit_bank_transfer(notice("FT13", 200_000, issued["payment"]["reference"]), T0, ON_PAID))
    await execute(store, credit_bank_transfer(notice("FT14", 200_000, other), T0, ON_PAID))
    invoice = await get_invoice("HS-11")(UnitOfWork(store))
    assert (invoice["status"], invoice["payment_reference"]) == ("paid", issued["payment"]["reference"])
    assert await unfulfilled_kind(store, issued["id"], other) == "fee.unfulfilled.invoice_paid"
    assert await posted_balances(store, AGENCY, refunds_payable()) == {AGENCY: 200_000, refunds_payable(): 200_000}


async def test_an_invoice_whose_payment_expired_can_still_be_cancelled(store: Any) -> None:
    reference = (await execute(store, issue("HS-X1"))).result["payment"]["reference"]
    await execute(store, expire_payment(reference, T0 + timedelta(hours=1)))
    cancelled = await execute(store, cancel_fee_invoice("HS-X1", "applicant left", T0 + timedelta(hours=2)))
    assert cancelled.result["status"] == "cancelled"
    assert cancelled.result["payment"]["status"] == "expired"


async def test_a_part_paid_payment_that_expires_is_owed_back(store: Any) -> None:
    reference = (await execute(store, issue("HS-P1"))).result["payment"]["reference"]
    await execute(store, credit_bank_transfer(notice("FTP1", 50_000, reference), T0, ON_PAID))
    expired = await execute(store, expire_payment(reference, T0 + timedelta(hours=1)))
    assert expired.result["status"] == "expired"
    assert await posted_balances(store, AGENCY, refunds_payable()) == {AGENCY: 0, refunds_payable(): 50_000}
    # A payment that expires lazily, when a late credit arrives, is refunded the same way.
    other = (await execute(store, issue("HS-P2"))).result["payment"]["reference"]
    await execute(store, credit_bank_transfer(notice("FTP2", 20_000, other), T0, ON_PAID))
    late = await execute(
        store, credit_bank_transfer(notice("FTP3", 180_000, other, minutes=90), T0 + timedelta(hours=2), ON_PAID)
    )
    assert late.result["outcome"] == "late"
    assert await posted_balances(store, AGENCY, refunds_payable(), suspense()) == {
        AGENCY: 0,
        refunds_payable(): 70_000,
        suspense(): 180_000,
    }


BUDGET = subsidy("ngan-sach-ha-noi")


async def test_a_fully_subsidised_invoice_issued_by_mistake_is_cancelled_and_the_budget_gets_its_share_back(
    store: Any,
) -> None:
    await execute(store, issue("HS-S1", channel="vneid"))
    with pytest.raises(InvalidTransition, match="cancel it"):
        await execute(store, refund_fee_invoice("HS-S1", 200_000, "issued by mistake", T0))
    cancelled = (await execute(store, cancel_fee_invoice("HS-S1", "issued by mistake", T0))).result
    assert (cancelled["status"], cancelled["subsidy_returned_vnd"]) == ("cancelled", 200_000)
    assert await posted_balances(store, BUDGET, AGENCY) == {BUDGET: 0, AGENCY: 0}
    head = await store.head()
    with pytest.raises(InvalidTransition):
        await execute(store, cancel_fee_invoice("HS-S1", "issued by mistake", T0))
    assert await store.head() == head


async def test_a_full_refund_of_a_partly_subsidised_invoice_gives_each_share_back_to_where_it_came_from(
    store: Any,
) -> None:
    reference = (await execute(store, issue("HS-S2", channel="online"))).result["payment"]["reference"]
    await execute(store, credit_bank_transfer(notice("FTS2", 100_000, reference), T0, ON_PAID))
    refunded = (await execute(store, refund_fee_invoice("HS-S2", 100_000, "application rejected", T0))).result
    assert (refunded["refunded_vnd"], refunded["subsidy_returned_vnd"]) == (100_000, 100_000)
    expected = {BANK: 100_000, BUDGET: 0, AGENCY: 0, refunds_payable(): 100_000}
    assert await posted_balances(store, *expected) == expected
    returned = (await execute(store, transfer_kind("fee-invoice:HS-S2:subsidy:reversal"))).result
    assert returned == {"kind": "reversal:fee.subsidy", "reversal_of": str(transfer_id("fee-invoice:HS-S2:subsidy"))}
    # Settlement sees the day as finance would: the budget's share came and went, nothing is owed.
    figures = (await claim_for(store, AGENCY, T0.date())).figures
    assert (figures.gross_vnd, figures.subsidy_vnd, figures.refunds_vnd, figures.net_vnd) == (100_000, 0, 100_000, 0)


async def test_a_partial_refund_gives_the_budget_the_same_share_of_its_part(store: Any) -> None:
    reference = (await execute(store, issue("HS-S3", channel="online"))).result["payment"]["reference"]
    await execute(store, credit_bank_transfer(notice("FTS3", 100_000, reference), T0, ON_PAID))
    await execute(store, refund_fee_invoice("HS-S3", 25_000, "partly not delivered", T0))
    expected = {BANK: 100_000, BUDGET: 75_000, AGENCY: 150_000, refunds_payable(): 25_000}
    assert await posted_balances(store, *expected) == expected


def transfer_kind(cause: str) -> Any:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        transfer = await uow.get(Transfer, transfer_id(cause))
        return {"kind": transfer.kind, "reversal_of": transfer.reversal_of}

    return use_case
