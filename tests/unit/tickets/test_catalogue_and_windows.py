"""The recorded catalogue entry, a ticket's ride window (what its signed code states), and
rides recorded before the validator was part of the event."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.errors import InvalidTransition
from domain.model.tickets import PRODUCTS, Ticket
from domain.model.tickets.catalogue import ProductEntry
from tests.unit.tickets.builders import T0, active, assert_replays, issued, paid, replay

MAPPER = build_mapper(CodecOptions())


def test_an_entry_records_changes_only_and_may_be_taken_off_sale() -> None:
    entry = ProductEntry.publish(PRODUCTS["MONTH"], "transerco", True, T0)
    assert not entry.revise(PRODUCTS["MONTH"], "transerco", True, T0 + timedelta(days=1))
    assert entry.revise(replace(PRODUCTS["MONTH"], price_vnd=220_000), "transerco", False, T0 + timedelta(days=1))
    with pytest.raises(InvalidTransition, match="not on sale"):
        entry.for_sale()
    assert entry.view()["price_vnd"] == 220_000
    assert_replays(entry)


def test_the_ride_window_of_each_state() -> None:
    assert issued().rides_window() is None, "not paid: no code"
    bought = paid("MONTH", T0)
    start, end = bought.rides_window() or (None, None)
    assert start == T0
    assert end == PRODUCTS["MONTH"].validity.until(T0 + timedelta(days=30)), "activated at the last moment"
    riding = active("SINGLE", T0)
    assert riding.rides_window() == (T0, T0 + timedelta(minutes=90))
    riding.expire(T0 + timedelta(minutes=90))
    assert riding.rides_window() is None


def test_a_ride_keeps_its_validator_and_old_rides_read_without_one() -> None:
    ticket = paid("DAY", T0)
    ticket.validate("bus-1", T0 + timedelta(minutes=1), "val-7")
    *earlier, ride = ticket.collect_events()
    assert ride.validator_id == "val-7"  # type: ignore[attr-defined]
    stored = MAPPER.to_stored_event(ride)
    state = MAPPER.transcoder.decode(stored.state)
    del state["validator_id"]
    del state["class_version"]
    old = MAPPER.to_domain_event(replace(stored, state=MAPPER.transcoder.encode(state)))
    assert old.validator_id is None  # type: ignore[attr-defined]
    rebuilt: Ticket = replay([*earlier, old])
    assert (rebuilt.rides_taken, list(rebuilt.ride_times)) == (1, ["bus-1"])
