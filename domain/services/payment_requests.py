"""A payment asked for a purpose: the amount always comes from the purpose itself.

- ``fee_invoice`` (purpose id: the invoice number or id): the invoice's payment while it
  can be paid, else the next attempt's (`request_invoice_payment`), to the agency's
  collection account;
- ``parking_session`` (the session id): what the ended session owes, paid to its
  operator's collection account (`request_session_payment`);
- ``ticket`` (the ticket id): the payment its QR purchase created;
- ``wallet_topup`` (the holder id): the only purpose whose amount the caller chooses,
  collected on the wallets payee's account.

A caller with a scope (a terminal's agencies or lots) is refused other places'
purposes (`OutOfScope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.model.clients import within_scope
from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.fees import FeeInvoice, invoice_id
from domain.model.parking.common import lot_id
from domain.model.parking.sessions import ParkingSession
from domain.model.payments import Payment, PaymentPurpose, PaymentStatus, payment_id
from domain.model.references import legacy_reference, make_reference
from domain.model.tickets.ticket import Ticket
from domain.services.fee_payments import payable_payment, request_invoice_payment
from domain.services.parking_payments import request_session_payment
from domain.services.payees import collection_account_of
from domain.services.payments import REFERENCE_CANDIDATES, payment_view
from domain.services.unit_of_work import UnitOfWork, UseCase
from domain.services.wallets import request_wallet_topup

DEFAULT_TTL = timedelta(minutes=15)


class NotForPurpose(InvalidValue):
    """A field the purpose does not take (or needs); ``field`` names it."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


@dataclass(frozen=True, slots=True)
class PaymentAsk:
    purpose: PaymentPurpose
    purpose_id: str
    amount_vnd: int | None = None  # wallet top-ups only
    ttl: timedelta | None = None  # for a payment made now (not a ticket's, made at purchase)
    request_id: UUID | None = None  # names a top-up, so a retry finds the same payment


def request_payment(ask: PaymentAsk, *, at: datetime, scope: tuple[str, ...], wallet_payee_id: str) -> UseCase:
    """Result: the payment's view (`payment_view`)."""
    if ask.purpose is not PaymentPurpose.WALLET_TOPUP and ask.amount_vnd is not None:
        raise NotForPurpose("amount_vnd", f"a {ask.purpose.value} payment's amount comes from it (top-ups only)")
    if ask.purpose is PaymentPurpose.TICKET and ask.ttl is not None:
        raise NotForPurpose("ttl_s", f"a {ask.purpose.value} payment was made with its purpose; ttl_s does not apply")

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if ask.purpose is PaymentPurpose.FEE_INVOICE:
            return await _invoice_payment(uow, ask, at, scope)
        if ask.purpose is PaymentPurpose.PARKING_SESSION:
            return await _session_payment(uow, ask, at, scope)
        if ask.purpose is PaymentPurpose.WALLET_TOPUP:
            return await _topup(uow, ask, at, wallet_payee_id)
        payment = await _ticket_payment(uow, ask.purpose_id)
        if payment.status is not PaymentStatus.PENDING:
            raise InvalidTransition(f"the ticket's payment {payment.reference} is {payment.status.value}")
        return payment_view(payment)

    return use_case


async def _invoice_payment(uow: UnitOfWork, ask: PaymentAsk, at: datetime, scope: tuple[str, ...]) -> dict[str, Any]:
    """``purpose_id`` is the invoice's number, or its id (what its payment's purpose_id says)."""
    try:
        stream = UUID(ask.purpose_id)
    except ValueError:
        stream = invoice_id(ask.purpose_id)
    invoice = await uow.get(FeeInvoice, stream)
    within_scope(scope, invoice.agency_id)
    payable = await payable_payment(uow, invoice, at)
    if payable is not None:  # still payable: no new payment, so no collection account to read
        return payment_view(payable)
    collection = await collection_account_of(uow, invoice.agency_id)
    result = await request_invoice_payment(invoice.invoice_no, collection, at, ask.ttl or DEFAULT_TTL)(uow)
    if result.get("payment") is None:
        raise InvalidTransition(f"invoice {invoice.invoice_no} has nothing for the payer to pay")
    view: dict[str, Any] = result["payment"]
    return view


async def _ticket_payment(uow: UnitOfWork, ticket: str) -> Payment:
    try:
        ticket_uuid = UUID(ticket)
    except ValueError:
        raise NotFound(f"ticket {ticket} not found") from None
    await uow.get(Ticket, ticket_uuid)
    payment = await find_request_payment(uow, ticket_uuid)
    if payment is None:
        raise InvalidTransition(f"ticket {ticket} was not bought by QR: it has no payment to show")
    return payment


async def find_request_payment(uow: UnitOfWork, request_id: UUID) -> Payment | None:
    """The payment a request created, whichever candidate reference it got (as `new_payment`
    chooses them: the first free candidate, or the first scheme's reference)."""
    legacy = await uow.find(Payment, payment_id(legacy_reference(request_id)))
    if legacy is not None and legacy.request_id is None:
        return legacy
    for attempt in range(REFERENCE_CANDIDATES):
        payment = await uow.find(Payment, payment_id(make_reference(request_id, attempt)))
        if payment is None:
            return None
        if payment.request_id == request_id:
            return payment
    return None


async def _session_payment(uow: UnitOfWork, ask: PaymentAsk, at: datetime, scope: tuple[str, ...]) -> dict[str, Any]:
    try:
        session_id = UUID(ask.purpose_id)
    except ValueError:
        raise NotFound(f"parking session {ask.purpose_id} not found") from None
    session = await uow.get(ParkingSession, session_id)
    # a terminal's scope names a lot by its id or by its code
    if scope and str(session.lot_id) not in scope and all(lot_id(code) != session.lot_id for code in scope):
        within_scope(scope, str(session.lot_id))
    collection = await collection_account_of(uow, session.operator_id)
    result = await request_session_payment(session_id, collection, at, ask.ttl or DEFAULT_TTL)(uow)
    view: dict[str, Any] = result["payment"]
    return view


async def _topup(uow: UnitOfWork, ask: PaymentAsk, at: datetime, wallet_payee_id: str) -> dict[str, Any]:
    if ask.amount_vnd is None:
        raise NotForPurpose("amount_vnd", "a wallet top-up needs amount_vnd")
    collection = await collection_account_of(uow, wallet_payee_id)
    topup = request_wallet_topup(
        ask.purpose_id, ask.amount_vnd, collection, at, request_id=ask.request_id, ttl=ask.ttl or DEFAULT_TTL
    )
    view: dict[str, Any] = (await topup(uow))["payment"]
    return view
