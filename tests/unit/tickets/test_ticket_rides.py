"""Validating rides: validity windows, single use, anti-passback; a refusal changes nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from domain.model.errors import InvalidValue
from domain.model.tickets import PRODUCTS, RefusalReason, Ticket, TicketRefused, TicketStatus
from tests.unit.tickets.builders import T0, active, assert_replays, issued, minutes, paid

PASSBACK = minutes(PRODUCTS["MONTH"].passback_minutes)


def refused(ticket: Ticket, vehicle_id: str, at: datetime) -> RefusalReason:
    """Validate expecting a refusal; check that the ticket did not change."""
    before = copy.deepcopy(ticket)
    with pytest.raises(TicketRefused) as caught:
        ticket.validate(vehicle_id, at)
    assert ticket == before
    return caught.value.reason


def test_first_ride_activates_a_paid_ticket() -> None:
    ticket = paid()
    assert ticket.validate("bus-1", T0 + minutes(3)) == 1
    assert ticket.status is TicketStatus.ACTIVE
    assert ticket.activated_at == T0 + minutes(3)
    assert ticket.valid_until == T0 + minutes(3 + 90)
    assert [type(e).__name__ for e in ticket.pending_events][-2:] == ["Activated", "Validated"]
    assert_replays(ticket)


def test_a_single_ride_validates_once() -> None:
    ticket = active()
    assert ticket.validate("bus-1", T0 + minutes(1)) == 1
    assert refused(ticket, "bus-2", T0 + minutes(40)) is RefusalReason.ALREADY_USED
    assert ticket.status is TicketStatus.ACTIVE  # still shown valid to an inspector until its window ends


def test_a_pass_rides_many_vehicles_but_not_the_same_one_within_the_passback_window() -> None:
    ticket = active("MONTH")
    assert ticket.validate("bus-1", T0) == 1
    assert ticket.validate("bus-2", T0 + minutes(1)) == 2
    assert refused(ticket, "bus-1", T0 + PASSBACK - timedelta(seconds=1)) is RefusalReason.PASSBACK
    assert ticket.validate("bus-1", T0 + PASSBACK) == 3
    assert ticket.rides_taken == 3
    assert_replays(ticket)


def test_a_late_upload_from_an_offline_validator_is_still_checked_for_passback() -> None:
    ticket = active("MONTH")
    ticket.validate("bus-1", T0 + minutes(10))
    assert refused(ticket, "bus-1", T0 + minutes(5)) is RefusalReason.PASSBACK
    assert ticket.validate("bus-2", T0 + minutes(5)) == 2


def test_rides_outside_the_validity_window_are_refused() -> None:
    ticket = active("DAY", at=T0 + minutes(30))
    assert refused(ticket, "bus-1", T0 + minutes(29)) is RefusalReason.NOT_YET_VALID
    assert ticket.valid_until is not None
    assert refused(ticket, "bus-1", ticket.valid_until) is RefusalReason.VALIDITY_ENDED
    assert ticket.validate("bus-1", ticket.valid_until - timedelta(seconds=1)) == 1


def test_unpaid_ended_and_stale_tickets_are_refused() -> None:
    assert refused(issued(), "bus-1", T0) is RefusalReason.NOT_PAID
    expired = issued()
    expired.expire(expired.pay_by)
    assert refused(expired, "bus-1", T0 + timedelta(hours=1)) is RefusalReason.ENDED
    refunded = paid()
    refunded.refund("changed plans", T0)
    assert refused(refunded, "bus-1", T0 + minutes(1)) is RefusalReason.ENDED
    assert refused(paid(), "bus-1", T0 + timedelta(days=30)) is RefusalReason.VALIDITY_ENDED
    assert refused(paid(at=T0 + minutes(5)), "bus-1", T0 + minutes(4)) is RefusalReason.NOT_YET_VALID


def test_a_ride_needs_a_vehicle_and_an_aware_time() -> None:
    with pytest.raises(InvalidValue):
        active().validate("", T0)
    with pytest.raises(InvalidValue):
        active().validate("bus-1", T0.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("build", "why"),
    [(issued, "not paid in time"), (paid, "not activated in time"), (lambda: active("MONTH"), "validity ended")],
)
def test_past_its_deadline_a_ticket_is_expired_without_an_event_and_refused_saying_so(
    build: Callable[[], Ticket], why: str
) -> None:
    ticket = build()
    ticket.collect_events()
    expiry = ticket.expiry()
    assert expiry is not None
    deadline, _ = expiry
    before = ticket.status
    assert ticket.status_at(deadline - timedelta(microseconds=1)) is before
    assert ticket.status_at(deadline) is TicketStatus.EXPIRED
    assert (ticket.status, ticket.pending_events) == (before, []), "computed: nothing recorded"
    with pytest.raises(TicketRefused) as caught:
        ticket.validate("bus-1", deadline)
    assert caught.value.reason is RefusalReason.VALIDITY_ENDED
    assert f"expired at {deadline.isoformat()}" in caught.value.detail
    assert why in caught.value.detail
    assert ticket.status is before
    assert ticket.pending_events == []


def test_a_tap_taken_before_the_expiry_and_uploaded_after_it_still_rides() -> None:
    ticket = active("SINGLE")
    assert ticket.valid_until is not None
    late = ticket.valid_until - timedelta(seconds=1)
    assert ticket.status_at(ticket.valid_until + timedelta(days=1)) is TicketStatus.EXPIRED
    assert ticket.validate("bus-1", late) == 1  # the validator's own time is the tap's
    assert ticket.status_at(late) is TicketStatus.ACTIVE


def test_ended_tickets_have_no_expiry_and_keep_their_status() -> None:
    refunded = paid()
    refunded.refund("changed plans", T0)
    assert refunded.expiry() is None
    assert refunded.status_at(T0 + timedelta(days=400)) is TicketStatus.REFUNDED
