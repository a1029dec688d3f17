"""Fees: the catalogue (admin) and invoices issued, read, cancelled, refunded (terminals).

A terminal whose client scope lists agencies works only on those agencies' invoices.
Invoice numbers are made from the caller and its Idempotency-Key, so a retry that
somehow missed its idempotency record still names the same invoice (refused as
already issued) instead of issuing a second one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from adapters.http.idempotency import key_derived_id, name_from_key, run_write
from adapters.http.payment_views import PaymentAnswer, payment_answer, showing_credits
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from adapters.http.types import Id, LongText, PositiveVnd, Reason, Text, Vnd
from domain.model.clients import Role, within_scope
from domain.model.fees import FeeInvoice, FeeService, SubsidyRule, invoice_id
from domain.services.fee_catalogue import issue_catalogued_invoice, put_fee_service
from domain.services.fees import cancel_fee_invoice, get_invoice, refund_fee_invoice
from domain.services.unit_of_work import UnitOfWork, UseCase, execute

InvoiceStatus = Literal["issued", "paid", "cancelled", "refunded"]
Percent = Annotated[int, msgspec.Meta(ge=1, le=100)]


class Subsidy(Body):
    channel: Id
    percent: Percent
    budget_payee_id: Id
    legal_basis: LongText


class FeeServiceBody(Body):
    name: Text
    payee_id: Id
    amount_vnd: Vnd
    legal_basis: LongText
    subsidies: list[Subsidy] = msgspec.field(default_factory=list)


class SubsidyView(Answer):
    channel: str
    percent: int
    budget_payee_id: str
    legal_basis: str


class FeeServiceView(Answer):
    service_code: str
    name: str
    payee_id: str
    amount_vnd: int
    legal_basis: str
    subsidies: list[SubsidyView]


class Payer(Body):
    name: Text
    id_number: Id | None = None


class InvoiceBody(Body):
    service_code: Id
    payer: Payer
    channel: Id


class CancelBody(Body):
    reason: Reason


class RefundBody(Body):
    amount_vnd: PositiveVnd
    reason: Reason


class InvoiceView(Answer):
    id: str
    invoice_no: str
    status: InvoiceStatus
    payer_id: str
    service_code: str
    agency_id: str
    amount_vnd: int
    subsidy_vnd: int
    payer_due_vnd: int
    refunded_vnd: int
    legal_basis: str
    payment_reference: str | None
    payment: PaymentAnswer | None = None


def _invoice(call: Call, result: dict[str, Any]) -> InvoiceView:
    payment = result.get("payment")
    answer = payment_answer(payment, call.services.display_links) if payment else None
    return msgspec.convert({**result, "payment": answer}, InvoiceView)


def _with_credits(use_case: UseCase) -> UseCase:
    """An invoice's payment is shown with the bank credits it took, as its own read shows it."""
    return showing_credits(use_case, inside="payment")


def _scoped(call: Call, invoice_no: str, inner: UseCase) -> UseCase:
    """Run ``inner`` only for an invoice of an agency within the caller's scope."""
    scope = call.caller.scope if call.caller else ()

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        invoice = await uow.get(FeeInvoice, invoice_id(invoice_no))
        within_scope(scope, invoice.agency_id)
        return await inner(uow)

    return use_case


async def put_service(call: Call) -> Reply:
    body: FeeServiceBody = call.body
    service = FeeService(
        service_code=call.param("service_code"),
        name=body.name,
        agency_id=body.payee_id,
        amount_vnd=body.amount_vnd,
        legal_basis=body.legal_basis,
        subsidies=tuple(SubsidyRule(s.channel, s.percent, s.budget_payee_id, s.legal_basis) for s in body.subsidies),
    )

    def render(result: dict[str, Any]) -> tuple[int, FeeServiceView]:
        return (201 if result["created"] else 200), msgspec.convert(result["service"], FeeServiceView)

    return await run_write(call, put_fee_service(service, call.at), render)


def invoice_number_for(client_id: str, idempotency_key: str) -> str:
    """The number of the invoice a client's request with that Idempotency-Key issues."""
    return name_from_key("FI", client_id, idempotency_key)


def invoice_number(call: Call) -> str:
    return key_derived_id(call, "FI")


async def issue(call: Call) -> Reply:
    body: InvoiceBody = call.body
    use_case = issue_catalogued_invoice(
        invoice_no=invoice_number(call),
        payer_id=body.payer.id_number or body.payer.name,
        service_code=body.service_code,
        channel=body.channel,
        at=call.at,
        scope=call.caller.scope if call.caller else (),
    )
    return await run_write(call, _with_credits(use_case), lambda result: (201, _invoice(call, result)))


async def read(call: Call) -> Reply:
    invoice_no = call.param("invoice_no")
    use_case = _with_credits(_scoped(call, invoice_no, get_invoice(invoice_no)))
    outcome = await execute(call.services.store, use_case)
    return Reply(200, _invoice(call, outcome.result))


async def cancel(call: Call) -> Reply:
    body: CancelBody = call.body
    invoice_no = call.param("invoice_no")
    use_case = _scoped(call, invoice_no, cancel_fee_invoice(invoice_no, body.reason, call.at))
    return await run_write(call, _with_credits(use_case), lambda result: (200, _invoice(call, result)))


async def refund(call: Call) -> Reply:
    body: RefundBody = call.body
    invoice_no = call.param("invoice_no")
    use_case = _scoped(call, invoice_no, refund_fee_invoice(invoice_no, body.amount_vnd, body.reason, call.at))
    return await run_write(call, _with_credits(use_case), lambda result: (200, _invoice(call, result)))


INVOICE = "/v1/fees/invoices/{invoice_no}"
ROUTES = [
    Route(
        "PUT", "/v1/fees/services/{service_code}", put_service, roles(Role.ADMIN),
        "Publish a fee service in the catalogue, or revise it",
        request=FeeServiceBody, response=FeeServiceView, other_statuses=(201,),
    ),
    Route(
        "POST", "/v1/fees/invoices", issue, roles(Role.TERMINAL),
        "Issue a fee invoice (and the payment of the payer's part)",
        request=InvoiceBody, response=InvoiceView, status=201,
    ),
    Route("GET", INVOICE, read, roles(Role.TERMINAL), "Read an invoice", response=InvoiceView),
    Route(
        "POST", f"{INVOICE}/cancel", cancel, roles(Role.TERMINAL), "Cancel an unpaid invoice",
        request=CancelBody, response=InvoiceView,
    ),
    Route(
        "POST", f"{INVOICE}/refund", refund, roles(Role.TERMINAL, Role.FINANCE), "Refund a paid invoice",
        request=RefundBody, response=InvoiceView,
    ),
]  # fmt: skip
