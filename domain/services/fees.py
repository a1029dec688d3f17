"""Use cases of one-stop-counter fees: issue an invoice (with its payment), settle,
cancel and refund it, posting the subsidy and refund transfers with the events.

Reversals: cancelling gives the budget its whole share back (agency → subsidy account);
a refund moves the payer's amount from the agency to refunds payable and the budget's
share in the same proportion back to the subsidy account (`FeeInvoice.refund`), so a
full refund leaves the agency nothing of the fee. Both reversals of the subsidy share
the transfer cause ``fee-invoice:<no>:subsidy:reversal``: an invoice is cancelled or
refunded once, and a retried command cannot post it twice.

A paid payment the invoice can no longer take (see `settle_invoice_on_payment`) is not
refused: its money goes on from the agency's payable to refunds payable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.model.errors import DomainError, InvalidTransition
from domain.model.fees import FeeCatalogue, FeeInvoice, InvoiceStatus, invoice_id
from domain.model.ledger import PartyKind, credit, debit, payable, refunds_payable, subsidy
from domain.model.payments import Payment, PaymentPurpose, PaymentStatus, payment_id
from domain.model.transfers import Transfer, transfer_id
from domain.services.payments import CollectionAccount, new_payment, owe_back, payment_view
from domain.services.unit_of_work import UnitOfWork, UseCase

UNFULFILLED_KIND = "fee.unfulfilled"
FEE_PAYMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/fee-invoice/payment")


def invoice_view(invoice: FeeInvoice, payment: Payment | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(invoice.id),
        "invoice_no": invoice.invoice_no,
        "status": invoice.status.value,
        "payer_id": invoice.payer_id,
        "service_code": invoice.service_code,
        "agency_id": invoice.agency_id,
        "amount_vnd": invoice.amount_vnd,
        "subsidy_vnd": invoice.subsidy_vnd,
        "payer_due_vnd": invoice.payer_due_vnd,
        "refunded_vnd": invoice.refunded_vnd,
        "subsidy_returned_vnd": invoice.subsidy_returned_vnd,
        "legal_basis": invoice.legal_basis,
        "payment_reference": invoice.payment_reference,
    }
    if payment is not None:
        view["payment"] = payment_view(payment)
    return view


def issue_fee_invoice(
    catalogue: FeeCatalogue,
    *,
    invoice_no: str,
    payer_id: str,
    service_code: str,
    channel: str,
    collection: CollectionAccount,
    at: datetime,
    payment_ttl: timedelta = timedelta(minutes=15),
) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if await uow.find(FeeInvoice, invoice_id(invoice_no)) is not None:
            raise InvalidTransition(f"invoice {invoice_no} was already issued")
        service = catalogue[service_code]
        invoice = FeeInvoice.issue(invoice_no=invoice_no, payer_id=payer_id, service=service, channel=channel, at=at)
        uow.add(invoice)
        agency = payable(PartyKind.AGENCY, invoice.agency_id)
        if invoice.subsidy_vnd and invoice.budget_id:
            uow.add(
                Transfer.post(
                    f"fee-invoice:{invoice_no}:subsidy",
                    "fee.subsidy",
                    [debit(subsidy(invoice.budget_id), invoice.subsidy_vnd), credit(agency, invoice.subsidy_vnd)],
                    at,
                )
            )
        payment = None
        if invoice.payer_due_vnd:
            payment = await request_payment_attempt(uow, invoice, 0, collection, at, payment_ttl)
        return invoice_view(invoice, payment)

    return use_case


def invoice_payment_request(invoice: UUID, attempt: int) -> UUID:
    """The request id of an invoice's payment: attempt 0 is the one made at issue, later
    ones follow a lapsed payment (`fee_payments.request_invoice_payment`)."""
    return invoice if attempt == 0 else uuid5(FEE_PAYMENT_NAMESPACE, f"{invoice}:{attempt}")


async def request_payment_attempt(
    uow: UnitOfWork, invoice: FeeInvoice, attempt: int, collection: CollectionAccount, at: datetime, ttl: timedelta
) -> Payment:
    """Create the invoice's payment of this attempt for what the payer owes, and request it."""
    payment = await new_payment(
        uow,
        request_id=invoice_payment_request(invoice.id, attempt),
        amount_vnd=invoice.payer_due_vnd,
        payee_account=payable(PartyKind.AGENCY, invoice.agency_id),
        purpose=PaymentPurpose.FEE_INVOICE,
        purpose_id=str(invoice.id),
        collection=collection,
        at=at,
        ttl=ttl,
    )
    invoice.request_payment(payment.reference, at)
    return payment


async def settle_invoice_on_payment(uow: UnitOfWork, payment: Payment, at: datetime) -> None:
    """Payments' hand-over for purpose "fee_invoice" (a `PaidHandler`).

    Payments has already credited the payee (the agency's payable). A bank credit must be
    recorded whatever happened to the invoice, so when the invoice cannot take this
    payment (unknown, cancelled, refunded, paid by another payment) the money moves on
    from the payee to refunds payable, the transfer's kind saying why, instead of
    failing the whole credit.
    """
    invoice = await _invoice_of(uow, payment)
    if invoice is not None:
        try:
            invoice.mark_paid(payment.reference, at)
            return
        except DomainError:  # refused: the invoice did not change
            pass
    if invoice is None:
        reason = "unknown_invoice"
    elif invoice.status is not InvoiceStatus.ISSUED:
        reason = f"invoice_{invoice.status.value}"
    else:
        reason = "other_payment"
    cause = f"fee-invoice:{payment.purpose_id}:unfulfilled:{payment.reference}"
    owe_back(uow, payment, payment.paid_vnd, cause, f"{UNFULFILLED_KIND}.{reason}", at)


async def _invoice_of(uow: UnitOfWork, payment: Payment) -> FeeInvoice | None:
    try:
        invoice = UUID(payment.purpose_id)
    except ValueError:
        return None
    return await uow.find(FeeInvoice, invoice)


def cancel_fee_invoice(invoice_no: str, reason: str, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        invoice = await uow.get(FeeInvoice, invoice_id(invoice_no))
        invoice.cancel(reason, at)
        payment = None
        if invoice.payment_reference:
            payment = await uow.get(Payment, payment_id(invoice.payment_reference))
            if payment.status is PaymentStatus.PENDING:  # an expired one needs nothing more
                payment.cancel(f"invoice cancelled: {reason}", at)
        await _return_subsidy(uow, invoice, invoice.subsidy_vnd, at)
        return invoice_view(invoice, payment)

    return use_case


def refund_fee_invoice(invoice_no: str, amount_vnd: int, reason: str, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        invoice = await uow.get(FeeInvoice, invoice_id(invoice_no))
        subsidy_returned_vnd = invoice.refund(amount_vnd, reason, at)
        agency = payable(PartyKind.AGENCY, invoice.agency_id)
        uow.add(
            Transfer.post(
                f"fee-invoice:{invoice_no}:refund",
                "fee.refund",
                [debit(agency, amount_vnd), credit(refunds_payable(), amount_vnd)],
                at,
            )
        )
        await _return_subsidy(uow, invoice, subsidy_returned_vnd, at)
        return invoice_view(invoice)

    return use_case


async def _return_subsidy(uow: UnitOfWork, invoice: FeeInvoice, amount_vnd: int, at: datetime) -> None:
    """Give ``amount_vnd`` of the budget's share back: agency → the budget's subsidy account.

    Posted as a reversal of the issue's subsidy transfer (``reversal:fee.subsidy``), so the
    settlement figures take it off the agency's subsidy income, not off its collections.
    """
    if not amount_vnd or invoice.budget_id is None:
        return
    granted = await uow.get(Transfer, transfer_id(f"fee-invoice:{invoice.invoice_no}:subsidy"))
    agency = payable(PartyKind.AGENCY, invoice.agency_id)
    uow.add(
        Transfer.post(
            f"fee-invoice:{invoice.invoice_no}:subsidy:reversal",
            f"reversal:{granted.kind}",
            [debit(agency, amount_vnd), credit(subsidy(invoice.budget_id), amount_vnd)],
            at,
            reversal_of=str(granted.id),
        )
    )


def get_invoice(invoice_no: str) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        invoice = await uow.get(FeeInvoice, invoice_id(invoice_no))
        payment = None
        if invoice.payment_reference and invoice.status is not InvoiceStatus.CANCELLED:
            payment = await uow.find(Payment, payment_id(invoice.payment_reference))
        return invoice_view(invoice, payment)

    return use_case
