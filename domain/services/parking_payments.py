"""Collecting what an ended parking session still owes by dynamic-QR payment.

A session ended with ``payment_method="qr"``, or by wallet beyond what the wallet could
pay, keeps an amount due (`ParkingSession.amount_due_vnd`). `request_session_payment`
creates the payment a counter or an app shows as a QR code: payee the operator's
payable, purpose ``parking_session``, purpose id the session id. When its bank credit
completes it, the payments module credits the operator and hands over to
`on_parking_session_paid`, which clears the session's amount due in the same unit of work.

A bank credit is recorded whatever happened to the session meanwhile: when the session
cannot take the payment (unknown, not ended, settled otherwise, already paid by another
payment, a different amount due) the money moves on from the operator's payable to
refunds payable, and the transfer's kind says why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.model.errors import DomainError, InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, payable
from domain.model.parking.common import NothingDue, PaymentMethod, aware
from domain.model.parking.sessions import ParkingSession, SessionStatus
from domain.model.payments import Payment, PaymentPurpose, PaymentStatus
from domain.services.payments import CollectionAccount, new_payment, owe_back, payment_view
from domain.services.unit_of_work import UnitOfWork, UseCase

SESSION_PAYMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/parking/session-payment")
# Long enough to scan the QR code at the exit and approve the transfer in a banking app.
DEFAULT_PAY_WITHIN = timedelta(minutes=15)
# Payments one session's amount due may be asked for, each after the last one lapsed
# unpaid; past this the driver pays some other way (bounds the look-ups of a request).
MAX_PAYMENT_REQUESTS = 20
UNFULFILLED_KIND = "parking.session.unfulfilled"


def session_payment_request(session: UUID, amount_due_vnd: int, attempt: int = 0) -> UUID:
    """The request id of a session's payment: the same session, amount due and attempt
    always name the same payment; a changed amount due names another one."""
    return uuid5(SESSION_PAYMENT_NAMESPACE, f"{session}:{amount_due_vnd}:{attempt}")


def request_session_payment(
    session_id: UUID, collection: CollectionAccount, at: datetime, ttl: timedelta = DEFAULT_PAY_WITHIN
) -> UseCase:
    """The QR payment for what an ended session owes now, created at most once.

    Asked again while that payment can still be paid, it returns the same payment
    (idempotent for the same session and amount due). Once it has lapsed or been
    cancelled unpaid, the next request creates a fresh one, so an exit whose QR timed
    out can still pay. Refuses a session that has not ended (`InvalidTransition`) or
    owes nothing (`NothingDue`).
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        session = await uow.get(ParkingSession, session_id)
        if session.status is not SessionStatus.ENDED:
            raise InvalidTransition(f"session {session.id} has not ended: its fee is not known yet")
        if session.amount_due_vnd == 0:
            raise NothingDue(f"session {session.id} owes nothing")
        assert session.ended_at is not None, "an ended session has an end"
        if aware(at) < session.ended_at:
            raise InvalidValue("a session's payment cannot be asked for before the session ended")
        for attempt in range(MAX_PAYMENT_REQUESTS):
            payment = await new_payment(
                uow,
                request_id=session_payment_request(session.id, session.amount_due_vnd, attempt),
                amount_vnd=session.amount_due_vnd,
                payee_account=payable(PartyKind.OPERATOR, session.operator_id),
                purpose=PaymentPurpose.PARKING_SESSION,
                purpose_id=str(session.id),
                collection=collection,
                at=at,
                ttl=ttl,
            )
            if payment.status is PaymentStatus.PENDING and at < payment.expires_at:
                return {
                    "session_id": str(session.id),
                    "amount_due_vnd": session.amount_due_vnd,
                    "payment": payment_view(payment),
                }
        raise InvalidTransition(
            f"session {session.id} had {MAX_PAYMENT_REQUESTS} payments lapse unpaid; take its payment another way"
        )

    return use_case


async def on_parking_session_paid(uow: UnitOfWork, payment: Payment, at: datetime) -> None:
    """Payments' hand-over for purpose "parking_session" (a `PaidHandler`).

    Payments has already credited the payee (the operator's payable) with what the
    payment collected. The session records it as its amount due paid; when the session
    refuses (see the module docstring) the money goes on to refunds payable instead of
    failing the whole bank credit.
    """
    session = await _session_of(uow, payment)
    if session is not None:
        try:
            session.record_qr_payment(payment.reference, payment.paid_vnd, at)
            return
        except DomainError:  # refused: the session did not change
            pass
    reason = _refusal(session, payment, at)
    cause = f"parking:session:{payment.purpose_id}:unfulfilled:{payment.reference}"
    owe_back(uow, payment, payment.paid_vnd, cause, f"{UNFULFILLED_KIND}.{reason}", at)


async def _session_of(uow: UnitOfWork, payment: Payment) -> ParkingSession | None:
    try:
        session = UUID(payment.purpose_id)
    except ValueError:
        return None
    return await uow.find(ParkingSession, session)


def _refusal(session: ParkingSession | None, payment: Payment, at: datetime) -> str:
    """Why ``session`` would not take ``payment``, as a word for the transfer's kind."""
    if session is None:
        return "unknown_session"
    if session.status is not SessionStatus.ENDED:
        return "not_ended"
    if session.payment_method is PaymentMethod.CASH:
        return "paid_in_cash"
    if session.amount_due_vnd == 0:
        return "already_paid"
    if payment.paid_vnd != session.amount_due_vnd:
        return "amount_differs"
    if session.ended_at is not None and at < session.ended_at:
        return "paid_before_end"
    return "refused"
