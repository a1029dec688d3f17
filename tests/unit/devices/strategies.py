"""Random device histories: batches of events as a gate sends them, and messy deliveries."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from domain.model.devices import DeviceEvent, EventKind
from domain.model.parking import PaymentMethod
from tests.unit.devices.builders import SECOND, T0

PLATES = ["29A-123.45", "29a12345", "30E-1234", "51F 999 99", "??"]  # "??" is unreadable


@dataclass(frozen=True)
class Delivery:
    events: list[DeviceEvent]
    received_s: float


@st.composite
def histories(draw: st.DrawFn, max_batches: int = 5) -> list[Delivery]:
    """Batches in the order the device first sends them: sequences mostly increasing
    (with gaps), device times moving forward, some events buffered offline."""
    batches: list[Delivery] = []
    sequence, clock_s = 0, 0.0
    for _ in range(draw(st.integers(1, max_batches))):
        events = []
        for _ in range(draw(st.integers(1, 6))):
            sequence += draw(st.sampled_from([1, 1, 1, 2, 3]))
            clock_s += draw(st.sampled_from([1, 5, 20, 40, 900, 4000]))
            kind = draw(st.sampled_from(list(EventKind)))
            fields: dict[str, object] = {}
            if kind.reads_plate:
                fields["plate"] = draw(st.sampled_from(PLATES))
            if kind is EventKind.EXIT:
                fields["payment_method"] = draw(st.sampled_from([None, PaymentMethod.CASH, PaymentMethod.QR]))
            if kind is EventKind.PAYMENT:
                fields |= {"amount_vnd": 10_000, "payment_method": PaymentMethod.CASH}
            events.append(
                DeviceEvent(
                    event_id=f"ev-{sequence}",
                    sequence=sequence,
                    kind=kind,
                    device_time=T0 + clock_s * SECOND,
                    offline=draw(st.booleans()),
                    **fields,  # type: ignore[arg-type]
                )
            )
        skew_s = draw(st.sampled_from([0.1, 2, 120]))
        batches.append(Delivery(draw(st.permutations(events)), clock_s + skew_s))
        clock_s += skew_s
    return batches


@st.composite
def with_redeliveries(draw: st.DrawFn, history: list[Delivery]) -> list[Delivery]:
    """The same first deliveries in the same order, with parts of earlier batches sent
    again (any subset, any order, any time later) before and after each of them."""
    messy: list[Delivery] = []
    for i, batch in enumerate(history):
        messy.append(batch)
        for _ in range(draw(st.integers(0, 2))):
            earlier = history[draw(st.integers(0, i))]
            part = draw(st.lists(st.sampled_from(earlier.events), min_size=1, max_size=len(earlier.events)))
            later = batch.received_s + draw(st.floats(0, 3600, allow_nan=False))
            messy.append(Delivery(part, later))
    return messy
