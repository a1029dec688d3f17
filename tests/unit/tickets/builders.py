"""Tickets and rider days in a known state, for the unit tests of this package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from domain.model.tickets import PRODUCTS, PaymentMethod, Ticket

# 08:00 in Hanoi on a Monday: the middle of service day 2025-03-10.
T0 = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
PAY_WITHIN = timedelta(minutes=30)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def issued(code: str = "SINGLE", *, method: PaymentMethod = PaymentMethod.QR, order_id: str = "order-1") -> Ticket:
    """A ticket just bought, awaiting its payment."""
    product = PRODUCTS[code]
    evidence = None if product.concession == "none" else "student-card-123"
    return Ticket.issue(
        order_id=order_id,
        rider_id="rider-1",
        operator_id="busco",
        product=product,
        payment_method=method,
        at=T0,
        pay_within=PAY_WITHIN,
        concession_evidence=evidence,
    )


def paid(code: str = "SINGLE", at: datetime = T0) -> Ticket:
    ticket = issued(code)
    ticket.confirm_payment("PAYREF1", ticket.product.price_vnd, at)
    return ticket


def active(code: str = "SINGLE", at: datetime = T0) -> Ticket:
    ticket = paid(code, at)
    ticket.activate(at)
    return ticket


def replay(events: Sequence[Any]) -> Any:
    """Fold events into a fresh aggregate, as loading from a store does."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def assert_replays(aggregate: Aggregate) -> None:
    """The aggregate's new events rebuild exactly its state."""
    events = aggregate.collect_events()
    assert replay(events) == aggregate
