"""What the counter's screen says, from the payment's history and the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from adapters.web.counter_state import FINAL, CounterState, counter_state, counter_view
from domain.model.payments import Payment, PaymentPurpose
from domain.model.references import make_reference

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)


def _payment(amount_vnd: int = 200_000) -> Payment:
    return Payment.create(
        reference=make_reference(uuid4(), 0),
        request_id=uuid4(),
        amount_vnd=amount_vnd,
        payee_account="payable:agency:stp-hn",
        purpose=PaymentPurpose.FEE_INVOICE,
        purpose_id="HS-1",
        bank_bin="970436",
        account_no="0011004455667",
        at=T0,
        expires_at=T0 + TTL,
    )


def test_waiting_then_paid() -> None:
    payment = _payment()
    assert counter_state(payment, T0) is CounterState.PENDING
    payment.credit("FT1", 200_000, T0 + timedelta(minutes=1))
    assert counter_state(payment, T0 + timedelta(minutes=1)) is CounterState.PAID
    assert counter_state(payment, T0 + 2 * TTL) is CounterState.PAID, "paid stays paid"
    assert CounterState.PAID in FINAL


def test_underpaid_says_what_is_still_due() -> None:
    payment = _payment()
    payment.credit("FT1", 50_000, T0 + timedelta(minutes=1))
    assert counter_state(payment, T0 + timedelta(minutes=2)) is CounterState.UNDERPAID
    view = counter_view(payment, T0 + timedelta(minutes=2))
    assert (view["state"], view["due"], view["paid"]) == ("underpaid", "150.000\u00a0₫", "50.000\u00a0₫")
    assert CounterState.UNDERPAID not in FINAL, "the rest may still come"


def test_expired_by_the_clock_before_it_is_recorded() -> None:
    payment = _payment()
    assert counter_state(payment, T0 + TTL - timedelta(seconds=1)) is CounterState.PENDING
    assert counter_state(payment, T0 + TTL) is CounterState.EXPIRED
    assert CounterState.EXPIRED not in FINAL, "a transfer booked in time may still pay it"


def test_a_transfer_after_expiry_is_paid_late() -> None:
    payment = _payment()
    payment.credit("FT9", 200_000, T0 + 2 * TTL)
    assert counter_state(payment, T0 + 2 * TTL) is CounterState.PAID_LATE
    assert CounterState.PAID_LATE in FINAL


def test_cancelled() -> None:
    payment = _payment()
    payment.cancel("wrong amount", T0 + timedelta(minutes=1))
    assert counter_state(payment, T0 + timedelta(minutes=1)) is CounterState.CANCELLED


def test_amounts_are_written_the_vietnamese_way() -> None:
    view = counter_view(_payment(1_234_567), T0)
    assert view["amount"] == "1.234.567\u00a0₫"
    assert view["expires_at"] == (T0 + TTL).isoformat()
