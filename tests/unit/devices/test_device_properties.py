"""Idempotency: however batches are redelivered, a device ends in the same state."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model.devices import Device, DeviceKind
from tests.unit.devices.builders import T0, deliver, state
from tests.unit.devices.strategies import Delivery, histories, with_redeliveries
from tests.unit.parking.factories import replayed


def run(deliveries: list[Delivery]) -> Device:
    device = Device.register("gate-north", DeviceKind.GATE, "HK-01", "A", 30, T0)
    for delivery in deliveries:
        deliver(device, delivery.events, delivery.received_s)
    return device


@settings(max_examples=200, deadline=None)
@given(st.data(), histories())
def test_any_redelivery_leaves_the_same_state(data: st.DataObject, history: list[Delivery]) -> None:
    once = run(history)
    messy = run(data.draw(with_redeliveries(history)))
    assert state(messy) == state(once)
    # and the log of the messy run replays to it (rejected events are recorded again, nothing else is)
    assert state(replayed(messy, list(messy.collect_events()))) == state(once)


@settings(max_examples=100, deadline=None)
@given(histories())
def test_redelivering_everything_again_writes_nothing_but_refusals(history: list[Delivery]) -> None:
    device = run(history)
    device.collect_events()
    for delivery in history:
        answer = deliver(device, delivery.events, delivery.received_s + 10_000)
        assert {e["status"] for e in answer["events"]} <= {"duplicate", "rejected"}
    for recorded in device.collect_events():
        assert {r["status"] for r in recorded.events} == {"rejected"}  # type: ignore[attr-defined]
