"""Any sequence of commands: refusals change nothing, and the events rebuild the state exactly.

The events also go through the event store's own codec, so every field is proven to
survive JSON encoding.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate
from hypothesis import event, given
from hypothesis import strategies as st

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.errors import DomainError
from domain.model.tickets import PAYG_FARES, PRODUCTS, PaymentMethod, RiderDay, Ticket
from tests.unit.tickets.builders import T0, replay

MAPPER = build_mapper(CodecOptions(compress=True))
STEPS = [timedelta(0), *(timedelta(minutes=m) for m in (1, 5, 19, 20, 21, 60, 89, 90, 24 * 60, 3 * 24 * 60))]
STEPS += [timedelta(days=30), -timedelta(minutes=3)]  # a late upload from an offline validator
VEHICLES = ["bus-1", "bus-2", "bus-3"]

ticket_commands = st.lists(
    st.tuples(
        st.sampled_from(
            ["confirm", "confirm-other", "confirm-wrong-amount", "activate", "validate", "expire", "refund"]
        ),
        st.sampled_from(STEPS),
        st.sampled_from(VEHICLES),
    ),
    max_size=25,
)


def through_codec(events: Sequence[Any]) -> list[Any]:
    return [MAPPER.to_domain_event(MAPPER.to_stored_event(event)) for event in events]


def run(aggregate: Aggregate, command: Any) -> None:
    """Run one command; a refused one must leave the aggregate exactly as it was."""
    before = copy.deepcopy(aggregate)
    try:
        command()
    except DomainError:
        assert aggregate == before


def ticket_command(ticket: Ticket, name: str, at: datetime, vehicle: str) -> Any:
    price_vnd = ticket.product.price_vnd
    return {
        "confirm": lambda: ticket.confirm_payment("PAYREF1", price_vnd, at),
        "confirm-other": lambda: ticket.confirm_payment("PAYREF2", price_vnd, at),
        "confirm-wrong-amount": lambda: ticket.confirm_payment("PAYREF1", price_vnd + 1, at),
        "activate": lambda: ticket.activate(at),
        "validate": lambda: ticket.validate(vehicle, at),
        "expire": lambda: ticket.expire(at),
        "refund": lambda: ticket.refund("asked", at),
    }[name]


@given(
    code=st.sampled_from(sorted(PRODUCTS)),
    method=st.sampled_from(PaymentMethod),
    commands=ticket_commands,
)
def test_ticket_events_rebuild_its_state(code: str, method: PaymentMethod, commands: list[Any]) -> None:
    product = PRODUCTS[code]
    evidence = None if product.concession == "none" else "card-1"
    ticket = Ticket.issue(
        order_id="o-1",
        rider_id="r-1",
        operator_id="busco",
        product=product,
        payment_method=method,
        at=T0,
        pay_within=timedelta(minutes=30),
        concession_evidence=evidence,
    )
    at = T0
    for name, step, vehicle in commands:
        at += step
        run(ticket, ticket_command(ticket, name, at, vehicle))
    event(f"ticket ends {ticket.status}, {ticket.rides_taken} ride(s)")
    events = ticket.collect_events()
    assert replay(events) == ticket
    assert replay(through_codec(events)) == ticket


@given(
    fare_code=st.sampled_from(sorted(PAYG_FARES)),
    taps=st.lists(st.tuples(st.sampled_from(STEPS[:8]), st.sampled_from(VEHICLES)), max_size=30),
)
def test_rider_day_events_rebuild_its_state(fare_code: str, taps: list[tuple[timedelta, str]]) -> None:
    day = RiderDay.open("r-1", PAYG_FARES[fare_code], T0)
    at = T0
    for step, vehicle in taps:
        at += step
        run(day, lambda: day.tap(vehicle, "busco", at))  # noqa: B023 - run() calls it at once
    event(f"capped: {day.capped}")
    events = day.collect_events()
    assert replay(events) == day
    assert replay(through_codec(events)) == day
