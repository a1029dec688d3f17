"""A payment as the API shows it: its state, its VietQR payload and its links.

The payload is derived from the payment alone (bank, account, amount, reference as
bill number and transfer note), so it is the same on every read and its images can
carry a strong ETag."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from adapters.http.display_links import DisplayLinks
from adapters.http.routing import Answer
from domain.model.payments import Payment
from domain.services.payments import payment_credits
from domain.services.unit_of_work import UnitOfWork, UseCase
from qr import vietqr

PaymentStatus = Literal["pending", "paid", "expired", "cancelled"]
Purpose = Literal["fee_invoice", "parking_session", "ticket", "wallet_topup"]


class PaymentLinks(Answer):
    qr_png: str
    qr_svg: str
    events: str
    display: str  # the counter page's capability URL (adapters/http/display_links)


class CounterpartyAnswer(Answer):
    """Who sent a transfer, as the bank's notice names them (empty parts: not said)."""

    name: str
    account_no: str
    bank: str


class PaymentCreditAnswer(Answer):
    bank_bin: str
    account_no: str
    bank_tx_id: str
    amount_vnd: int
    booked_at: str
    outcome: str
    counterparty: CounterpartyAnswer | None


class PaymentAnswer(Answer):
    id: str
    reference: str
    status: PaymentStatus
    amount_vnd: int
    paid_vnd: int
    due_vnd: int
    excess_vnd: int
    late_vnd: int
    purpose: Purpose
    purpose_id: str
    bank_bin: str
    account_no: str
    expires_at: str
    qr_payload: str
    links: PaymentLinks
    # the bank credits it took, with who sent each (in every answer carrying the payment)
    credits: list[PaymentCreditAnswer]


def qr_payload(view: dict[str, Any]) -> str:
    reference = view["reference"]
    fields = vietqr.build(
        view["bank_bin"], view["account_no"], amount_vnd=view["amount_vnd"], bill=reference, purpose=reference
    )
    return vietqr.encode(fields)


async def with_credits(uow: UnitOfWork, view: dict[str, Any]) -> dict[str, Any]:
    """A payment's view (`domain.services.payments.payment_view`) with the bank credits it
    took, as a read of the payment shows them."""
    payment = await uow.get(Payment, UUID(view["id"]))
    return {**view, "credits": await payment_credits(uow, payment)}


def showing_credits(use_case: UseCase, *, inside: str | None = None) -> UseCase:
    """``use_case`` whose result (or its ``inside`` field, when it holds a payment) is a
    payment's view, with that payment's credits: read in the same unit of work, so the
    answer (and what an Idempotency-Key replays) shows them as they were."""

    async def shown(uow: UnitOfWork) -> dict[str, Any]:
        result = await use_case(uow)
        if inside is None:
            return await with_credits(uow, result)
        if result.get(inside) is not None:
            return {**result, inside: await with_credits(uow, result[inside])}
        return result

    return shown


def payment_answer(view: dict[str, Any], display: DisplayLinks) -> PaymentAnswer:
    """From `domain.services.payments.payment_view` to the answer (extra fields dropped)."""
    base = f"/v1/payments/{view['id']}"
    links = {
        "qr_png": f"{base}/qr.png",
        "qr_svg": f"{base}/qr.svg",
        "events": f"{base}/events",
        "display": display.url(view["id"], datetime.fromisoformat(view["expires_at"])),
    }
    return msgspec.convert({**view, "qr_payload": qr_payload(view), "links": links}, PaymentAnswer)
