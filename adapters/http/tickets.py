"""E-tickets for citizen apps: buy one (from the rider's wallet, or by QR: the payment
comes with it and is also what ``POST /v1/payments`` purpose ``ticket`` shows), read it
with its signed code, activate it, refund it.

The order a ticket is bought under is made from the client and its Idempotency-Key, so
a retry names the same ticket; the product's price and operator come from the recorded
catalogue (`adapters.http.ticket_products`), never from the buyer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from adapters.http.idempotency import key_derived_id, run_write
from adapters.http.payment_views import PaymentAnswer, payment_answer, showing_credits
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from adapters.http.ticket_products import ProductCode
from adapters.http.types import AccountPart, Id, Reason
from domain.model.clients import Role
from domain.model.errors import NotFound
from domain.model.tickets import PaymentMethod, Ticket
from domain.services.ticket_products import buy_ticket
from domain.services.tickets import activate_ticket, refund_ticket, ticket_view
from domain.services.unit_of_work import UnitOfWork, UseCase, execute

TicketStatus = Literal["awaiting_payment", "issued", "active", "expired", "refunded"]


class PurchaseBody(Body):
    product_code: ProductCode
    rider_id: AccountPart
    payment_method: Literal["wallet", "qr"]
    concession_evidence: Id | None = None


class RefundBody(Body):
    reason: Reason


class TicketAnswer(Answer):
    ticket_id: str
    order_id: str
    status: TicketStatus
    product_code: str
    rider_id: str
    operator_id: str
    payee_account: str
    price_vnd: int
    payment_method: Literal["wallet", "qr"]
    payment_reference: str | None
    paid_vnd: int
    pay_by: str
    activate_by: str | None
    activated_at: str | None
    valid_until: str | None
    rides_taken: int
    refunded_vnd: int
    rides_from: str | None
    rides_until: str | None
    code: str | None
    payment: PaymentAnswer | None = None


def ticket_answer(call: Call, view: dict[str, Any]) -> TicketAnswer:
    payment = view.get("payment")
    answer = payment and payment_answer(payment, call.services.display_links)
    fields = {**view, "code": call.services.ticket_codes.code(view), "payment": answer}
    return msgspec.convert(fields, TicketAnswer)


def ticket_uuid(call: Call) -> UUID:
    raw = call.param("ticket_id")
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"ticket {raw} not found") from None


def read_ticket(ticket: UUID, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        return ticket_view(await uow.get(Ticket, ticket), at)

    return use_case


async def purchase(call: Call) -> Reply:
    body: PurchaseBody = call.body
    call.services.ticket_codes.require()  # no ticket is sold that could not be shown
    use_case = buy_ticket(
        order_id=key_derived_id(call, "TO"),
        rider_id=body.rider_id,
        product_code=body.product_code,
        payment_method=PaymentMethod(body.payment_method),
        at=call.at,
        concession_evidence=body.concession_evidence,
    )
    shown = showing_credits(use_case, inside="payment")
    return await run_write(call, shown, lambda view: (201, ticket_answer(call, view)))


async def read(call: Call) -> Reply:
    outcome = await execute(call.services.store, read_ticket(ticket_uuid(call), call.at))
    return Reply(200, ticket_answer(call, outcome.result))


async def activate(call: Call) -> Reply:
    use_case = activate_ticket(ticket_uuid(call), call.at)
    return await run_write(call, use_case, lambda view: (200, ticket_answer(call, view)))


async def refund(call: Call) -> Reply:
    body: RefundBody = call.body
    use_case = refund_ticket(ticket_uuid(call), body.reason, call.at)
    return await run_write(call, use_case, lambda view: (200, ticket_answer(call, view)))


TICKET = "/v1/tickets/{ticket_id}"
SIGNS = (503,)  # without a ticket signing key (docs/API.md)
# a ticket id is a UUID: "keys" and "validate" beside it are never taken for one
TICKET_ID = (("ticket_id", "[0-9A-Fa-f-]+"),)
ROUTES = [
    Route(
        "POST", "/v1/tickets", purchase, roles(Role.APP),
        "Buy a ticket of a recorded product, from the rider's wallet or by QR (its payment comes with it)",
        request=PurchaseBody, response=TicketAnswer, status=201, errors=(402, *SIGNS),
    ),
    Route("GET", TICKET, read, roles(Role.APP, Role.FINANCE), "Read a ticket and its signed code",
          response=TicketAnswer, errors=SIGNS, patterns=TICKET_ID),
    Route("POST", f"{TICKET}/activate", activate, roles(Role.APP), "Activate a paid ticket: its validity starts now",
          response=TicketAnswer, errors=SIGNS, patterns=TICKET_ID),
    Route(
        "POST", f"{TICKET}/refund", refund, roles(Role.APP, Role.FINANCE),
        "Refund a paid ticket, as much as its product's rule allows", request=RefundBody, response=TicketAnswer,
        errors=SIGNS, patterns=TICKET_ID,
    ),
]  # fmt: skip
