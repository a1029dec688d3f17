"""A device's log: deduplication, sequence gaps, debounce, clock offset, replay."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain.model.devices import MAX_BATCH_EVENTS, BatchTooLarge, Device, DeviceKind, EventKind
from domain.model.devices.receipts import ID_WINDOW
from domain.model.errors import InvalidValue
from domain.model.parking import PaymentMethod
from tests.unit.devices.builders import SECOND, T0, deliver, event, gate, state
from tests.unit.parking.factories import replayed


def statuses(answer: dict[str, object]) -> list[tuple[str, str]]:
    return [(e["event_id"], e["status"]) for e in answer["events"]]  # type: ignore[attr-defined]


def test_a_redelivered_batch_is_all_duplicates_and_records_nothing() -> None:
    device = gate()
    batch = [
        event(1),
        event(2, EventKind.ENTRY),
        event(3, EventKind.PAYMENT, amount_vnd=25_000, payment_method=PaymentMethod.CASH),
    ]
    first = deliver(device, batch)
    assert [s for _, s in statuses(first)] == ["accepted"] * 3
    assert len(device.collect_events()) == 1
    again = deliver(device, list(reversed(batch)), received_s=60)
    assert [s for _, s in statuses(again)] == ["duplicate"] * 3
    assert all(e["reason"] == "already received" for e in again["events"])
    assert device.collect_events() == []


def test_the_same_event_twice_in_one_batch_is_taken_once() -> None:
    device = gate()
    answer = deliver(device, [event(1), event(1)])
    assert statuses(answer) == [("ev-1", "accepted"), ("ev-1", "duplicate")]


def test_a_sequence_number_belongs_to_one_event_id() -> None:
    device = gate()
    deliver(device, [event(1)])
    answer = deliver(device, [event(1, event_id="other")])
    assert answer["events"][0]["status"] == "rejected"
    assert "already belongs to event 'ev-1'" in answer["events"][0]["reason"]


def test_gaps_are_reported_once_and_closed_by_late_events() -> None:
    device = gate()
    answer = deliver(device, [event(1), event(4), event(9)])
    assert answer["gaps"] == [(2, 3), (5, 8)]
    assert device.receipts.gaps == [(2, 3), (5, 8)]
    late = deliver(device, [event(3), event(6)])
    assert late["gaps"] == []
    assert statuses(late) == [("ev-3", "accepted"), ("ev-6", "accepted")]
    assert device.receipts.gaps == [(2, 2), (5, 5), (7, 8)]


def test_events_older_than_the_window_are_refused_not_guessed() -> None:
    device = gate()
    deliver(device, [event(ID_WINDOW + 10)])
    answer = deliver(device, [event(5)])
    assert answer["events"][0]["status"] == "rejected"
    assert "older than" in answer["events"][0]["reason"]


def test_repeated_reads_of_one_plate_collapse_within_the_debounce_window() -> None:
    device = gate(debounce_s=30)
    batch = [
        event(1, EventKind.ENTRY, 0, plate="29A-123.45"),
        event(2, EventKind.ENTRY, 10, plate="29a12345"),  # the same car, read again
        event(3, EventKind.ENTRY, 12, plate="30E-1234"),  # another car
        event(4, EventKind.EXIT, 15, plate="29A12345"),  # an exit is not a repeated entry
        event(5, EventKind.ENTRY, 45, plate="29A 123 45"),  # past the window: a new read
    ]
    answer = deliver(device, batch, received_s=46)
    assert statuses(answer) == [
        ("ev-1", "accepted"),
        ("ev-2", "duplicate"),
        ("ev-3", "accepted"),
        ("ev-4", "accepted"),
        ("ev-5", "accepted"),
    ]
    assert answer["events"][1]["reason"] == "debounced"
    # A collapsed read was delivered: redelivering it is a plain duplicate.
    assert deliver(device, [batch[1]], received_s=50)["events"][0]["reason"] == "already received"


def test_which_read_collapses_does_not_depend_on_the_order_in_the_request() -> None:
    reads = [event(1, EventKind.ENTRY, 0), event(2, EventKind.ENTRY, 5)]
    for order in (reads, reads[::-1]):
        device = gate()
        answer = deliver(device, order, received_s=6)
        assert {e["event_id"]: e["status"] for e in answer["events"]} == {"ev-1": "accepted", "ev-2": "duplicate"}


def test_the_clock_offset_is_measured_on_live_events_and_corrects_event_times() -> None:
    device = gate()
    # The device's clock is 90 s slow; its last live event was sent 200 ms before we got it.
    slow = timedelta(seconds=-90)
    batch = [
        event(1, EventKind.ENTRY, -30, plate="29A-123.45"),
        event(2, EventKind.HEARTBEAT, 0),
        event(3, EventKind.ENTRY, -600, plate="30E-1234", offline=True),
    ]
    batch = [dataclasses.replace(e, device_time=e.device_time + slow) for e in batch]
    verdicts, offset = device.screen(batch, T0 + 0.2 * SECOND)
    assert offset == 90_200
    at = {v.event.event_id: v.at for v in verdicts}
    assert at["ev-1"] == T0 - 29.8 * SECOND
    assert at["ev-3"] == T0 - 599.8 * SECOND  # buffered offline, corrected by the same offset
    device.record(verdicts, offset, T0 + 0.2 * SECOND)
    # A batch of offline events alone keeps the last measure.
    late = [event(4, EventKind.HEARTBEAT, -3000, offline=True)]
    assert device.screen(late, T0 + 10 * SECOND)[1] == 90_200


def test_corrected_times_never_lie_after_their_arrival() -> None:
    device = gate()
    deliver(device, [event(1, EventKind.HEARTBEAT, 0)], received_s=100)  # offset +100 s
    verdicts, _ = device.screen([event(2, EventKind.HEARTBEAT, 50, offline=True)], T0 + 120 * SECOND)
    assert verdicts[0].at == T0 + 120 * SECOND


def test_invalid_events_are_rejected_one_by_one() -> None:
    device = gate()
    batch = [
        event(1, EventKind.ENTRY, plate="??"),
        event(2, EventKind.ENTRY, plate=None),
        event(3, EventKind.PAYMENT),
        event(4, EventKind.EXIT, payment_method=PaymentMethod.WALLET),
        event(5, event_id=""),
        event(6),
    ]
    answer = deliver(device, batch)
    assert [e["status"] for e in answer["events"]] == ["rejected"] * 5 + ["accepted"]
    assert "letters and digits" in answer["events"][0]["reason"]
    # Refused events are not received: the device may send them again, corrected.
    assert deliver(device, [event(1, EventKind.ENTRY, plate="29A-123.45")])["events"][0]["status"] == "accepted"


def test_a_batch_has_at_most_a_thousand_events() -> None:
    with pytest.raises(BatchTooLarge):
        gate().screen([event(i) for i in range(1, MAX_BATCH_EVENTS + 2)], T0)


def test_comms_state_follows_the_last_comms_event() -> None:
    device = gate()
    deliver(device, [event(1, EventKind.COMMS_LOST), event(2, EventKind.HEARTBEAT, offline=True)])
    assert device.comms_up is False
    deliver(device, [event(3, EventKind.COMMS_RESTORED)])
    assert device.comms_up is True


def test_a_device_replays_to_the_same_state() -> None:
    device = Device.register("gate-north", DeviceKind.GATE, "HK-01", "A", 30, T0)
    deliver(device, [event(1), event(3, EventKind.ENTRY), event(7, EventKind.EXIT, 40, plate="30E-1234")])
    deliver(device, [event(2, EventKind.COMMS_LOST), event(3)], received_s=70)
    assert device.reassign(DeviceKind.METER, "HK-01", "B", 10, T0 + 80 * SECOND)
    assert not device.reassign(DeviceKind.METER, "HK-01", "B", 10, T0 + 90 * SECOND)
    rebuilt = replayed(device, list(device.collect_events()))
    assert state(rebuilt) == state(device)
    assert (rebuilt.kind, rebuilt.zone, rebuilt.debounce) == (DeviceKind.METER, "B", 10 * SECOND)


@pytest.mark.parametrize("debounce_s", [-1, 3601, True])
def test_registration_checks_the_debounce_window(debounce_s: int) -> None:
    with pytest.raises(InvalidValue):
        Device.register("gate-north", DeviceKind.GATE, "HK-01", "A", debounce_s, T0)
