"""Random session lifecycles: replay reproduces them, and the fee is collected exactly once:
what the payment method settles at the end plus what stays due is the fee."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model.errors import DomainError
from domain.model.parking import Channel, ParkingSession, PaymentMethod, VehicleClass
from domain.model.parking.postings import session_cause, settle_fee
from domain.model.transfers import Hold
from tests.unit.parking.factories import DRIVER, T0, arrival, registered_lot, replayed

minutes = st.integers(min_value=1, max_value=36 * 60)


@settings(max_examples=100, deadline=None)
@given(
    prepay=st.booleans(),
    booked=st.none() | minutes,
    extensions=st.lists(minutes, max_size=3),
    stay=st.integers(min_value=0, max_value=36 * 60),
    method=st.sampled_from(PaymentMethod),
    spendable=st.none() | st.integers(min_value=0, max_value=400_000),
)
def test_a_session_replays_exactly_and_its_fee_is_collected_once(
    prepay: bool, booked: int | None, extensions: list[int], stay: int, method: PaymentMethod, spendable: int | None
) -> None:
    lot = registered_lot()
    schedule = lot.schedule("A", VehicleClass.CAR)
    expected_end = None if booked is None else T0 + timedelta(minutes=booked)
    fields = {"channel": Channel.APP, "device_id": None, "driver_id": DRIVER, "prepay": prepay}
    try:
        session, hold = ParkingSession.start(lot, arrival("app-1", expected_end=expected_end, **fields), T0)
    except DomainError:
        return  # a booked end past the maximum stay: refused, nothing to replay
    history = list(session.collect_events())
    holds: list[Hold] = [hold] if hold else []
    for step, extra in enumerate(extensions, start=1):
        current = session.expected_end or T0
        try:
            new_hold = session.extend(
                current + timedelta(minutes=extra), T0 + timedelta(minutes=step), schedule, _current(holds)
            )
        except DomainError:
            continue
        holds += [new_hold] if new_hold else []
    at = T0 + timedelta(minutes=max(stay, len(extensions)))
    fee = session.end(at, schedule, method, Channel.GATE, device_id="gate", wallet_spendable_vnd=spendable).total_vnd
    paid_now = fee - session.amount_due_vnd
    transfers = settle_fee(
        session_cause(session.id), method, paid_now, session.operator_id, DRIVER, _current(holds), at
    )
    history += session.collect_events()
    assert replayed(session, history) == session

    collected = sum(t.amount_vnd for t in transfers) + sum(h.posted_vnd for h in holds)
    assert collected + session.amount_due_vnd == fee
    if method is PaymentMethod.QR:
        assert session.amount_due_vnd == fee
    elif method is PaymentMethod.WALLET and spendable is not None:
        assert session.amount_due_vnd == max(0, fee - spendable)  # the wallet pays what it can, never more
    else:
        assert session.amount_due_vnd == 0


def _current(holds: list[Hold]) -> Hold | None:
    """The session's hold: the last one placed (an extension's larger hold replaces the earlier)."""
    return holds[-1] if holds else None
