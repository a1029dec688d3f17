"""Use cases of e-tickets (pay-as-you-go taps are in `domain.services.fare_capping`).

Each command is a factory returning a `UseCase` for `execute`. Every ledger transfer a
command causes is added to the same unit of work as the ticket's own events, so both are
appended atomically or not at all. Money moves as follows:

- purchase by wallet: wallet(rider) → payable(operator), the price, at once; the
  rider's `Wallet` records the debit in the same write, or refuses it when the
  available balance is short (`InsufficientFunds`: no ticket is issued);
- purchase by QR (`purchase_ticket_by_qr` also creates the payment): nothing here.
  Payments credits the operator's payable when the bank transfer arrives and hands
  over to `on_ticket_paid`, which only changes the ticket;
- refund: payable(operator) → refunds payable, the amount the refund rule allows.

Transfer causes name the ticket, so a retried command re-derives the same transfer id
and the event store refuses to post it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.model.errors import DomainError, InvalidTransition
from domain.model.ledger import PartyKind, credit, debit, payable, refunds_payable, wallet
from domain.model.payments import Payment, PaymentPurpose
from domain.model.tickets import (
    PRODUCTS,
    PaymentMethod,
    Product,
    Ticket,
    find_product,
    ticket_id,
)
from domain.model.transfers import Transfer
from domain.services.payments import CollectionAccount, new_payment, owe_back, payment_view
from domain.services.unit_of_work import UnitOfWork, UseCase
from domain.services.wallets import guard_transfer

# Long enough to scan a QR code and approve the transfer in a banking app; the payment
# created for the ticket should not outlive it.
DEFAULT_PAY_WITHIN = timedelta(minutes=30)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def operator_account(operator_id: str) -> str:
    """Where a ticket's price is owed: the bus operator's payable."""
    return payable(PartyKind.OPERATOR, operator_id)


def ticket_view(ticket: Ticket, at: datetime) -> dict[str, Any]:
    """The ticket as it stands at ``at``: expired once its deadline passed (`Ticket.status_at`),
    and then without a span for rides (so without a code)."""
    status = ticket.status_at(at)
    window = ticket.rides_window() if status is ticket.status else None
    return {
        "ticket_id": str(ticket.id),
        "order_id": ticket.order_id,
        "status": status.value,
        "product_code": ticket.product.code,
        "rider_id": ticket.rider_id,
        "operator_id": ticket.operator_id,
        "payee_account": operator_account(ticket.operator_id),
        "price_vnd": ticket.product.price_vnd,
        "payment_method": ticket.payment_method.value,
        "payment_reference": ticket.payment_reference,
        "paid_vnd": ticket.paid_vnd,
        "pay_by": ticket.pay_by.isoformat(),
        "activate_by": _iso(ticket.activate_by),
        "activated_at": _iso(ticket.activated_at),
        "valid_until": _iso(ticket.valid_until),
        "rides_taken": ticket.rides_taken,
        "refunded_vnd": ticket.refunded_vnd,
        "rides_from": None if window is None else window[0].isoformat(),
        "rides_until": None if window is None else window[1].isoformat(),
    }


def purchase_ticket(
    *,
    order_id: str,
    rider_id: str,
    operator_id: str,
    product_code: str,
    payment_method: PaymentMethod,
    at: datetime,
    concession_evidence: str | None = None,
    pay_within: timedelta = DEFAULT_PAY_WITHIN,
    catalogue: Mapping[str, Product] = PRODUCTS,
) -> UseCase:
    """Issue a ticket; by wallet it is paid at once, by QR it awaits its payment.

    The order id names the ticket: the same order again returns the same ticket, a
    different purchase under a used order id is refused.
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        product = find_product(product_code, catalogue)
        order = _Order(order_id, rider_id, operator_id, product, payment_method, concession_evidence)
        return ticket_view(await _issue(uow, order, at, pay_within), at)

    return use_case


def purchase_ticket_by_qr(
    *,
    order_id: str,
    rider_id: str,
    operator_id: str,
    product_code: str,
    collection: CollectionAccount,
    at: datetime,
    concession_evidence: str | None = None,
    pay_within: timedelta = DEFAULT_PAY_WITHIN,
    catalogue: Mapping[str, Product] = PRODUCTS,
) -> UseCase:
    """Issue a QR-bought ticket together with its dynamic-QR payment.

    The payment is requested under the ticket's id, so a retry finds the same payment,
    and it expires when the ticket's ``pay_by`` does, so a ticket never waits for money
    that can no longer come (a late credit is the payments' business to refund).
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        product = find_product(product_code, catalogue)
        order = _Order(order_id, rider_id, operator_id, product, PaymentMethod.QR, concession_evidence)
        ticket = await _issue(uow, order, at, pay_within)
        payment = await new_payment(
            uow,
            request_id=ticket.id,
            amount_vnd=product.price_vnd,
            payee_account=operator_account(operator_id),
            purpose=PaymentPurpose.TICKET,
            purpose_id=str(ticket.id),
            collection=collection,
            at=ticket.created_on,
            ttl=ticket.pay_by - ticket.created_on,
        )
        return {**ticket_view(ticket, at), "payment": payment_view(payment)}

    return use_case


@dataclass(frozen=True, slots=True)
class _Order:
    order_id: str
    rider_id: str
    operator_id: str
    product: Product
    payment_method: PaymentMethod
    concession_evidence: str | None


async def _issue(uow: UnitOfWork, order: _Order, at: datetime, pay_within: timedelta) -> Ticket:
    existing = await uow.find(Ticket, ticket_id(order.order_id))
    if existing is not None:
        ordered = (existing.rider_id, existing.operator_id, existing.product.code, existing.payment_method)
        if ordered != (order.rider_id, order.operator_id, order.product.code, order.payment_method):
            raise InvalidTransition(f"order {order.order_id!r} already bought a different ticket")
        return existing
    ticket = Ticket.issue(
        order_id=order.order_id,
        rider_id=order.rider_id,
        operator_id=order.operator_id,
        product=order.product,
        payment_method=order.payment_method,
        at=at,
        pay_within=pay_within,
        concession_evidence=order.concession_evidence,
    )
    uow.add(ticket)
    if ticket.payment_method is PaymentMethod.WALLET:
        price_vnd = order.product.price_vnd
        sale = Transfer.post(
            f"ticket:{ticket.id}:sale",
            "ticket.sale",
            [debit(wallet(order.rider_id), price_vnd), credit(operator_account(order.operator_id), price_vnd)],
            at,
        )
        await guard_transfer(uow, sale, at)
        ticket.confirm_payment(str(sale.id), price_vnd, at)
        uow.add(sale)
    return ticket


async def confirm_payment(
    uow: UnitOfWork, ticket_id: UUID, payment_reference: str, amount_vnd: int, at: datetime
) -> dict[str, Any]:
    """Mark a QR-bought ticket paid inside the caller's unit of work (no ledger entries)."""
    ticket = await uow.get(Ticket, ticket_id)
    ticket.confirm_payment(payment_reference, amount_vnd, at)
    return ticket_view(ticket, at)


def confirm_ticket_payment(ticket_id: UUID, payment_reference: str, amount_vnd: int, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        return await confirm_payment(uow, ticket_id, payment_reference, amount_vnd, at)

    return use_case


async def on_ticket_paid(uow: UnitOfWork, payment: Payment, at: datetime) -> None:
    """Payments' hand-over for purpose "ticket" (a `PaidHandler`).

    Payments has already credited the operator's payable. A bank credit must be recorded
    whatever happens to the ticket, so when the ticket cannot take this payment (unknown,
    expired unpaid, paid by another payment, wrong amount) the money moves on from the
    payee to refunds payable instead of failing the whole credit.
    """
    try:
        await confirm_payment(uow, UUID(payment.purpose_id), payment.reference, payment.amount_vnd, at)
    except (ValueError, DomainError):
        cause = f"ticket:{payment.purpose_id}:unfulfilled:{payment.reference}"
        owe_back(uow, payment, payment.amount_vnd, cause, "ticket.unfulfilled", at)


def activate_ticket(ticket_id: UUID, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        ticket = await uow.get(Ticket, ticket_id)
        ticket.activate(at)
        return ticket_view(ticket, at)

    return use_case


def validate_ticket(ticket_id: UUID, vehicle_id: str, at: datetime, validator_id: str | None = None) -> UseCase:
    """A validator's ride; a refusal raises `TicketRefused` and records nothing."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        ticket = await uow.get(Ticket, ticket_id)
        ride_no = ticket.validate(vehicle_id, at, validator_id)
        return {**ticket_view(ticket, at), "ride_no": ride_no, "vehicle_id": vehicle_id}

    return use_case


def refund_ticket(ticket_id: UUID, reason: str, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        ticket = await uow.get(Ticket, ticket_id)
        amount_vnd = ticket.refund(reason, at)
        uow.add(
            Transfer.post(
                f"ticket:{ticket.id}:refund",
                "ticket.refund",
                [debit(operator_account(ticket.operator_id), amount_vnd), credit(refunds_payable(), amount_vnd)],
                at,
            )
        )
        return ticket_view(ticket, at)

    return use_case


def expire_ticket(ticket_id: UUID, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        ticket = await uow.get(Ticket, ticket_id)
        ticket.expire(at)
        return ticket_view(ticket, at)

    return use_case
