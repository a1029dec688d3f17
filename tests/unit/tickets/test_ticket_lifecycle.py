"""Ticket purchase, payment, activation, expiry and refund: each transition and each refusal."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.tickets import PRODUCTS, PaymentMethod, RefusalReason, Ticket, TicketRefused, TicketStatus, ticket_id
from tests.unit.tickets.builders import PAY_WITHIN, T0, active, assert_replays, issued, minutes, paid


def test_issue_awaits_payment_with_the_products_terms() -> None:
    ticket = issued("MONTH-STU")
    assert ticket.id == ticket_id("order-1")
    assert ticket.status is TicketStatus.AWAITING_PAYMENT
    assert ticket.product == PRODUCTS["MONTH-STU"]
    assert ticket.concession_evidence == "student-card-123"
    assert ticket.pay_by == T0 + PAY_WITHIN
    assert (ticket.paid_vnd, ticket.payment_reference, ticket.activate_by) == (0, None, None)
    assert_replays(ticket)


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("SINGLE", {"order_id": ""}),
        ("SINGLE", {"rider_id": "a:b"}),
        ("SINGLE", {"operator_id": ""}),
        ("SINGLE", {"pay_within": timedelta(0)}),
        ("SINGLE", {"pay_within": timedelta(days=2)}),
        ("SINGLE", {"concession_evidence": "card"}),  # evidence for a full fare is a mistake
        ("SINGLE-STU", {"concession_evidence": None}),
        ("SINGLE", {"at": T0.replace(tzinfo=None)}),
        ("SINGLE", {"payment_method": "cash"}),
    ],
)
def test_issue_refuses_bad_commands(code: str, change: dict[str, Any]) -> None:
    command: dict[str, Any] = {
        "order_id": "o",
        "rider_id": "rider-1",
        "operator_id": "busco",
        "product": PRODUCTS[code],
        "payment_method": PaymentMethod.QR,
        "at": T0,
        "pay_within": PAY_WITHIN,
        "concession_evidence": "card-9" if code.endswith("STU") else None,
    }
    with pytest.raises(InvalidValue):
        Ticket.issue(**{**command, **change})


def test_payment_issues_the_ticket_with_an_activation_deadline() -> None:
    ticket = issued("DAY")
    assert ticket.confirm_payment("PAYREF1", 40_000, T0 + minutes(5)) is True
    assert ticket.status is TicketStatus.ISSUED
    assert (ticket.payment_reference, ticket.paid_vnd) == ("PAYREF1", 40_000)
    assert ticket.activate_by == T0 + minutes(5) + timedelta(days=30)
    assert_replays(ticket)


def test_the_same_payment_confirmed_again_changes_nothing() -> None:
    ticket = paid()
    ticket.collect_events()
    assert ticket.confirm_payment("PAYREF1", ticket.paid_vnd, T0 + minutes(9)) is False
    assert ticket.pending_events == []


def test_a_second_payment_or_a_wrong_amount_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        paid().confirm_payment("OTHER", 8_000, T0)
    with pytest.raises(InvalidValue):
        issued().confirm_payment("PAYREF1", 7_999, T0)
    with pytest.raises(InvalidValue):
        issued().confirm_payment("", 8_000, T0)
    with pytest.raises(InvalidValue):
        issued().confirm_payment("PAYREF1", 8_000, T0 - minutes(1))  # before the purchase


def test_payment_of_an_expired_ticket_is_refused() -> None:
    ticket = issued()
    ticket.expire(ticket.pay_by)
    with pytest.raises(InvalidTransition):
        ticket.confirm_payment("PAYREF1", 8_000, ticket.pay_by + minutes(1))


def test_activation_starts_the_validity_window() -> None:
    ticket = paid("DAY")
    ticket.activate(T0 + minutes(10))
    assert ticket.status is TicketStatus.ACTIVE
    assert ticket.activated_at == T0 + minutes(10)
    assert ticket.valid_until == PRODUCTS["DAY"].validity.until(T0)
    assert_replays(ticket)


def test_activation_refusals_say_why() -> None:
    cases = [
        (issued(), T0, RefusalReason.NOT_PAID),
        (paid(at=T0 + minutes(5)), T0 + minutes(4), RefusalReason.NOT_YET_VALID),
        (paid(), T0 + timedelta(days=30), RefusalReason.VALIDITY_ENDED),
    ]
    for ticket, at, reason in cases:
        with pytest.raises(TicketRefused) as refused:
            ticket.activate(at)
        assert refused.value.reason is reason
    with pytest.raises(InvalidTransition):
        active().activate(T0 + minutes(1))


@pytest.mark.parametrize(
    ("build", "deadline_of", "reason"),
    [
        (issued, lambda t: t.pay_by, "unpaid"),
        (paid, lambda t: t.activate_by, "not_activated"),
        (active, lambda t: t.valid_until, "validity_ended"),
    ],
)
def test_expiry_happens_at_the_deadline_of_each_live_state(
    build: Callable[[], Ticket], deadline_of: Callable[[Ticket], datetime], reason: str
) -> None:
    ticket = build()
    deadline = deadline_of(ticket)
    with pytest.raises(InvalidTransition):
        ticket.expire(deadline - timedelta(seconds=1))
    ticket.expire(deadline)
    assert (ticket.status, ticket.end_reason) == (TicketStatus.EXPIRED, reason)
    assert_replays(ticket)
    with pytest.raises(InvalidTransition):
        ticket.expire(deadline + timedelta(days=1))


def test_an_unactivated_ticket_is_refunded_in_full() -> None:
    ticket = paid("MONTH")
    assert ticket.refund("changed plans", T0 + timedelta(days=2)) == 200_000
    assert (ticket.status, ticket.refunded_vnd, ticket.end_reason) == (TicketStatus.REFUNDED, 200_000, "changed plans")
    assert_replays(ticket)


def test_an_active_monthly_pass_is_refunded_pro_rata() -> None:
    ticket = active("MONTH")
    assert ticket.refund("moved away", T0 + timedelta(days=3)) == 200_000 * 26 // 30
    assert ticket.status is TicketStatus.REFUNDED


@pytest.mark.parametrize("code", ["SINGLE", "DAY"])
def test_an_active_single_ride_or_day_pass_is_not_refunded(code: str) -> None:
    ticket = active(code)
    before = copy.deepcopy(ticket)
    with pytest.raises(InvalidTransition):
        ticket.refund("no", T0 + minutes(1))
    assert ticket == before


def test_refund_refusals() -> None:
    with pytest.raises(InvalidTransition):
        issued().refund("never paid", T0)
    with pytest.raises(InvalidTransition):
        paid().refund("too late", T0 + timedelta(days=30))  # past activate_by: it expires instead
    with pytest.raises(InvalidTransition):
        active("MONTH").refund("too late", T0 + timedelta(days=31))
    with pytest.raises(InvalidValue):
        paid(at=T0 + minutes(5)).refund("out of order", T0)
    with pytest.raises(InvalidValue):
        paid().refund("", T0)
    refunded = paid()
    refunded.refund("once", T0)
    with pytest.raises(InvalidTransition):
        refunded.refund("twice", T0)
    with pytest.raises(InvalidTransition):
        refunded.expire(T0 + timedelta(days=60))
    with pytest.raises(TicketRefused):
        refunded.activate(T0 + minutes(1))
