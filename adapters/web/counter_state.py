"""What the counter's screen says about a payment, from the payment and the time.

One of: waiting for payment (with the QR), paid, underpaid with what is still due,
expired (its time is up: the QR is taken away, though a transfer booked in time still
turns it to paid), paid late (money came after it expired or was cancelled: the clerk
sorts it out), cancelled. Paid, paid late and cancelled are final: the screen stops
listening. The page and its event stream both show `counter_view`, so they agree."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.model.payments import Payment, PaymentStatus
from settlement.templating import vnd


class CounterState(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    UNDERPAID = "underpaid"
    EXPIRED = "expired"
    PAID_LATE = "paid_late"
    CANCELLED = "cancelled"


FINAL = frozenset({CounterState.PAID, CounterState.PAID_LATE, CounterState.CANCELLED})


def counter_state(payment: Payment, now: datetime) -> CounterState:
    if payment.status is PaymentStatus.PAID:
        return CounterState.PAID
    if payment.late_vnd > 0:
        return CounterState.PAID_LATE
    if payment.status is PaymentStatus.CANCELLED:
        return CounterState.CANCELLED
    if payment.status is PaymentStatus.EXPIRED or now >= payment.expires_at:
        return CounterState.EXPIRED
    if payment.paid_vnd > 0:
        return CounterState.UNDERPAID
    return CounterState.PENDING


def counter_view(payment: Payment, now: datetime) -> dict[str, Any]:
    """The screen's state and its amounts, written the Vietnamese way (``200.000 ₫``)."""
    return {
        "state": counter_state(payment, now).value,
        "version": payment.version,
        "amount": vnd(payment.amount_vnd),
        "paid": vnd(payment.paid_vnd),
        "due": vnd(payment.due_vnd),
        "late": vnd(payment.late_vnd),
        "expires_at": payment.expires_at.isoformat(),
    }
