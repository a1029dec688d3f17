"""Payments: ask one for a purpose, read it, cancel it, and its QR code as PNG or SVG.

The amount always comes from the purpose (an invoice, a parking session, a ticket);
only a wallet top-up names its amount. The QR images carry a strong ETag (the hash of
the format and the payload, which never changes for a payment), so terminals can
revalidate them for free."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from aiohttp import web

from adapters.http.idempotency import run_write
from adapters.http.payment_views import PaymentAnswer, Purpose, payment_answer, qr_payload, showing_credits
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Body, Call, Reply, Route, roles
from adapters.http.types import Id, PositiveVnd, Reason
from domain.model.clients import Role
from domain.model.errors import NotFound
from domain.model.payments import Payment, PaymentPurpose
from domain.services.payment_requests import NotForPurpose, PaymentAsk, request_payment
from domain.services.payments import cancel_payment, payment_credits, payment_view
from domain.services.unit_of_work import UnitOfWork
from qr.render import render_png, render_svg

TOPUP_REQUESTS = uuid5(NAMESPACE_URL, "https://citysettle.example/http/topup-request")
TtlS = Annotated[int, msgspec.Meta(ge=60, le=86_400, description="seconds the QR stays payable")]
PAYERS = roles(Role.TERMINAL, Role.APP)


class PaymentBody(Body):
    purpose: Purpose
    purpose_id: Id
    amount_vnd: PositiveVnd | None = None
    ttl_s: TtlS | None = None


class CancelBody(Body):
    reason: Reason


def payment_uuid(raw: str) -> UUID:
    """The payment id of a path; anything but a UUID is a payment that does not exist."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"payment {raw} not found") from None


async def load_payment(call: Call) -> Payment:
    return await UnitOfWork(call.services.store).get(Payment, payment_uuid(call.param("payment_id")))


async def shown(call: Call, payment: Payment) -> PaymentAnswer:
    """The payment as a read shows it: with its bank credits and who sent each."""
    credits = await payment_credits(UnitOfWork(call.services.store), payment)
    return payment_answer({**payment_view(payment), "credits": credits}, call.services.display_links)


async def create(call: Call) -> Reply:
    body: PaymentBody = call.body
    assert call.request_key is not None, "a signed POST"
    purpose = PaymentPurpose(body.purpose)
    # the top-up's request id comes from the client's key: a retry names the same payment
    topup_request = (
        uuid5(TOPUP_REQUESTS, f"{call.request_key.client_id}\n{call.request_key.key}")
        if purpose is PaymentPurpose.WALLET_TOPUP
        else None
    )
    ask = PaymentAsk(
        purpose=purpose,
        purpose_id=body.purpose_id,
        amount_vnd=body.amount_vnd,
        ttl=None if body.ttl_s is None else timedelta(seconds=body.ttl_s),
        request_id=topup_request,
    )
    scope = call.caller.scope if call.caller else ()
    try:
        use_case = showing_credits(
            request_payment(ask, at=call.at, scope=scope, wallet_payee_id=call.services.wallet_payee_id)
        )
        return await run_write(call, use_case, lambda view: (201, payment_answer(view, call.services.display_links)))
    except NotForPurpose as exc:
        raise Problem(422, "Invalid body", str(exc), f"{PROBLEM_BASE}invalid-body", field=f"$.{exc.field}") from exc


async def read(call: Call) -> Reply:
    return Reply(200, await shown(call, await load_payment(call)))


async def cancel(call: Call) -> Reply:
    body: CancelBody = call.body
    payment = await load_payment(call)
    use_case = showing_credits(cancel_payment(payment.reference, body.reason, call.at))
    return await run_write(call, use_case, lambda view: (200, payment_answer(view, call.services.display_links)))


def _image(call: Call, payload: str, kind: str, render: Any, content_type: str) -> web.Response:
    etag = hashlib.sha256(f"{kind}\n{payload}".encode()).hexdigest()[:32]
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, max-age=86400"}
    if f'"{etag}"' in (t.strip() for t in call.request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    data = render(payload)
    return web.Response(
        body=data.encode() if isinstance(data, str) else data, headers=headers, content_type=content_type
    )


async def qr_png(call: Call) -> web.StreamResponse:
    payload = qr_payload(payment_view(await load_payment(call)))
    return _image(call, payload, "png", render_png, "image/png")


async def qr_svg(call: Call) -> web.StreamResponse:
    payload = qr_payload(payment_view(await load_payment(call)))
    return _image(call, payload, "svg", render_svg, "image/svg+xml")


PAYMENT = "/v1/payments/{payment_id}"
ROUTES = [
    Route(
        "POST", "/v1/payments", create, PAYERS, "Ask for the dynamic-QR payment of a purpose",
        request=PaymentBody, response=PaymentAnswer, status=201,
    ),
    Route("GET", PAYMENT, read, PAYERS, "Read a payment", response=PaymentAnswer),
    Route(
        "POST", f"{PAYMENT}/cancel", cancel, PAYERS, "Cancel a pending payment",
        request=CancelBody, response=PaymentAnswer,
    ),
    Route("GET", f"{PAYMENT}/qr.png", qr_png, PAYERS, "The payment's QR code (PNG)", response_media="image/png",
          other_statuses=(304,)),
    Route("GET", f"{PAYMENT}/qr.svg", qr_svg, PAYERS, "The payment's QR code (SVG)", response_media="image/svg+xml",
          other_statuses=(304,)),
]  # fmt: skip
