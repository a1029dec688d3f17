"""Asking again for a fee invoice's payment once the QR code shown for it lapsed.

`issue_fee_invoice` creates the invoice's first payment (request id: the invoice id). A
citizen who did not pay before it expired, or whose payment a counter cancelled, gets a
new one from `request_invoice_payment`: the next attempt, its own request id and
reference. The invoice is paid by whichever of its payments completes first (a transfer
booked on time for a lapsed one may still be notified late); any other that completes
is owed back by `settle_invoice_on_payment`. A payment that lapsed part-paid owes its
part back when it expires: when the next attempt is asked for after the accepted
notification delay, by `expire_payment`, or at the next credit it receives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeGuard

from domain.model.errors import InvalidTransition
from domain.model.fees import FeeInvoice, InvoiceStatus, invoice_id
from domain.model.payments import Payment, PaymentStatus, payment_id
from domain.services.fees import invoice_view, request_payment_attempt
from domain.services.payments import DEFAULT_NOTICE_DELAY, CollectionAccount, expire_if_lapsed
from domain.services.unit_of_work import UnitOfWork, UseCase

DEFAULT_PAY_WITHIN = timedelta(minutes=15)
# Payments one invoice may be asked for, each after the last one lapsed unpaid; past
# this the counter takes the fee some other way (bounds an invoice's history).
MAX_PAYMENT_REQUESTS = 20


def request_invoice_payment(
    invoice_no: str,
    collection: CollectionAccount,
    at: datetime,
    ttl: timedelta = DEFAULT_PAY_WITHIN,
    *,
    accepted_delay: timedelta = DEFAULT_NOTICE_DELAY,
) -> UseCase:
    """The QR payment for what the payer of an issued invoice owes, created at most once
    per attempt.

    While the invoice's last payment can still be paid (pending, not expired) it is
    returned unchanged, so asking twice is harmless. Once it has lapsed or was cancelled,
    the next attempt's payment is created and requested on the invoice. Refuses an
    invoice that is not issued, that the budget covers entirely, or that has had
    `MAX_PAYMENT_REQUESTS` payments (`InvalidTransition`).
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        invoice = await uow.get(FeeInvoice, invoice_id(invoice_no))
        if invoice.status is not InvoiceStatus.ISSUED:
            raise InvalidTransition(f"invoice {invoice_no} is {invoice.status}: there is nothing to pay")
        last = await _last_payment(uow, invoice)
        if _payable(last, at):
            return invoice_view(invoice, last)
        if last is not None:  # past the notification delay too: its part-paid money is owed back now
            expire_if_lapsed(uow, last, at, accepted_delay)
        attempt = len(invoice.payment_references)
        if attempt >= MAX_PAYMENT_REQUESTS:
            raise InvalidTransition(
                f"invoice {invoice_no} had {attempt} payments lapse unpaid; take its fee another way"
            )
        payment = await request_payment_attempt(uow, invoice, attempt, collection, at, ttl)
        return invoice_view(invoice, payment)

    return use_case


async def payable_payment(uow: UnitOfWork, invoice: FeeInvoice, at: datetime) -> Payment | None:
    """The invoice's payment that can still be paid at ``at`` (what `request_invoice_payment`
    answers without making a new one), or None."""
    if invoice.status is not InvoiceStatus.ISSUED:
        return None
    last = await _last_payment(uow, invoice)
    return last if _payable(last, at) else None


def _payable(payment: Payment | None, at: datetime) -> TypeGuard[Payment]:
    return payment is not None and payment.status is PaymentStatus.PENDING and at < payment.expires_at


async def _last_payment(uow: UnitOfWork, invoice: FeeInvoice) -> Payment | None:
    if invoice.payment_reference is None:
        return None
    return await uow.get(Payment, payment_id(invoice.payment_reference))
