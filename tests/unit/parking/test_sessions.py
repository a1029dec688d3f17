from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, Side, cash, payable, wallet
from domain.model.parking import Channel, ParkingSession, PaymentMethod, SessionStatus, VehicleClass, quote
from domain.model.parking.postings import session_cause, settle_fee
from domain.model.parking.quotes import MAX_BILLABLE
from domain.model.transfers import Hold, HoldStatus, Transfer
from tests.unit.parking.factories import DRIVER, HOUR, MIN, OPERATOR, T0, arrival, registered_lot, replayed

OPERATOR_PAYABLE = payable(PartyKind.OPERATOR, OPERATOR)


def app_arrival(**changes: Any) -> Any:
    fields = {"channel": Channel.APP, "device_id": None, "driver_id": DRIVER, "prepay": True}
    return arrival("app-77", **(fields | changes))


def start(**changes: Any) -> tuple[ParkingSession, Hold | None]:
    return ParkingSession.start(registered_lot(), arrival(**changes), T0)


def end(session: ParkingSession, hold: Hold | None, at: datetime, method: PaymentMethod) -> tuple[int, list[Transfer]]:
    schedule = registered_lot().schedule(session.zone, session.vehicle_class)
    fee = session.end(at, schedule, method, Channel.GATE, device_id="gate-south").total_vnd
    return fee, settle_fee(session_cause(session.id), method, fee, OPERATOR, session.driver_id, hold, at)


def moves(transfers: list[Transfer]) -> list[tuple[str, str, int]]:
    return [(e.account, e.side.value, e.amount_vnd) for t in transfers for e in t.entries]


def test_a_gate_entry_starts_an_active_session_without_money() -> None:
    session, hold = start()
    assert hold is None
    assert session.status is SessionStatus.ACTIVE
    assert (session.started_at, session.started_via, session.device_id) == (T0, Channel.GATE, "gate-north")
    assert (session.operator_id, session.zone, session.vehicle_class) == (OPERATOR, "A", VehicleClass.CAR)


def test_a_prepaid_app_session_holds_the_expected_fee_in_the_wallet() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + 3 * HOUR), T0)
    assert hold is not None
    assert (hold.debit_account, hold.credit_account) == (wallet(DRIVER), OPERATOR_PAYABLE)
    assert hold.amount_vnd == session.held_vnd == 85_000
    assert hold.expires_at == T0 + 3 * HOUR + timedelta(days=1)
    assert session.hold_id == hold.id


def test_an_open_ended_prepaid_session_holds_a_day_within_the_maximum_stay() -> None:
    _, hold = ParkingSession.start(registered_lot(), app_arrival(), T0)
    assert hold is not None
    assert hold.amount_vnd == 300_000  # the daily cap


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"device_id": None}, "gate report names its device"),
        ({"channel": Channel.METER, "device_id": None}, "meter report names its device"),
        ({"channel": Channel.APP}, "belongs to a driver"),
        ({"prepay": True}, "belongs to a driver"),
        ({"expected_end": T0}, "after the start"),
        ({"expected_end": T0 + 25 * HOUR}, "maximum stay"),
        ({"zone": "Z"}, "no car spaces in zone 'Z'"),
        ({"vehicle_class": VehicleClass.MOTORBIKE, "zone": "B"}, "no motorbike spaces"),
        ({"vehicle_class": "bus"}, "vehicle_class"),
        ({"channel": "fax"}, "channel"),
        ({"plate": "30A-123.45-XXXXXXX"}, "plate"),
        ({"reference": ""}, "reference"),
    ],
)
def test_bad_starts_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        start(**changes)


def test_a_start_needs_an_aware_time_and_a_tariff_in_force() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        ParkingSession.start(registered_lot(), arrival(), datetime(2025, 3, 3, 8))
    with pytest.raises(InvalidValue, match="no tariff is in force"):
        ParkingSession.start(registered_lot(at=T0), arrival(), T0 - MIN)


def test_a_reservation_hold_must_still_be_open_to_be_adopted() -> None:
    hold = Hold.place("r", "parking.reservation", wallet(DRIVER), OPERATOR_PAYABLE, 1_000, T0 - HOUR, T0 + HOUR)
    hold.void("cancelled", T0 - MIN)
    with pytest.raises(InvalidTransition, match="no longer open"):
        ParkingSession.start(registered_lot(), arrival(), T0, adopted_hold=hold)


def test_an_extension_moves_the_expected_end_later() -> None:
    session, _ = start(expected_end=T0 + HOUR)
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    assert session.extend(T0 + 2 * HOUR, T0 + 30 * MIN, schedule, None) is None
    assert session.expected_end == T0 + 2 * HOUR
    with pytest.raises(InvalidValue, match="later"):
        session.extend(T0 + 2 * HOUR, T0 + 40 * MIN, schedule, None)
    with pytest.raises(InvalidValue, match="past now"):
        session.extend(T0 + 3 * HOUR, T0 + 3 * HOUR, schedule, None)
    with pytest.raises(InvalidValue, match="maximum stay"):
        session.extend(T0 + 25 * HOUR, T0 + HOUR, schedule, None)
    with pytest.raises(InvalidValue, match="before it started"):
        session.extend(T0 + 3 * HOUR, T0 - MIN, schedule, None)


def test_an_extension_beyond_the_hold_replaces_it_with_a_larger_one() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    assert hold is not None
    assert hold.amount_vnd == 25_000
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    bigger = session.extend(T0 + 3 * HOUR, T0 + 50 * MIN, schedule, hold)
    assert bigger is not None
    assert hold.status is HoldStatus.VOIDED
    assert (bigger.amount_vnd, bigger.expires_at) == (85_000, T0 + 3 * HOUR + timedelta(days=1))
    assert (session.hold_id, session.held_vnd) == (bigger.id, 85_000)


def test_an_extension_within_the_hold_keeps_it() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + 23 * HOUR), T0)
    assert hold is not None
    assert hold.amount_vnd == 300_000
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    assert session.extend(T0 + 24 * HOUR, T0 + HOUR, schedule, hold) is None  # the cap: no more to hold
    assert hold.status is HoldStatus.PENDING
    assert session.hold_id == hold.id


def test_a_cash_exit_debits_the_operators_cash_and_credits_its_payable() -> None:
    session, _ = start()
    fee, transfers = end(session, None, T0 + 2 * HOUR + MIN, PaymentMethod.CASH)
    assert fee == session.fee_vnd == 85_000
    assert session.status is SessionStatus.ENDED
    assert (session.ended_at, session.ended_via, session.amount_due_vnd) == (T0 + 2 * HOUR + MIN, Channel.GATE, 0)
    assert moves(transfers) == [(cash(OPERATOR), "debit", 85_000), (OPERATOR_PAYABLE, "credit", 85_000)]
    assert sum(s.amount_vnd for s in session.segments) == fee


def test_a_wallet_exit_posts_the_fee_from_the_hold_and_releases_the_rest() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + 3 * HOUR), T0)
    fee, transfers = end(session, hold, T0 + 90 * MIN, PaymentMethod.WALLET)
    assert hold is not None
    assert (fee, hold.status, hold.posted_vnd, transfers) == (50_000, HoldStatus.POSTED, 50_000, [])


def test_a_fee_above_the_hold_is_charged_to_the_wallet_directly() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    fee, transfers = end(session, hold, T0 + 2 * HOUR + MIN, PaymentMethod.WALLET)
    assert hold is not None
    assert hold.posted_vnd == 25_000
    assert fee == 85_000
    assert moves(transfers) == [(wallet(DRIVER), "debit", 60_000), (OPERATOR_PAYABLE, "credit", 60_000)]


def test_a_wallet_exit_after_the_hold_lapsed_expires_it_and_charges_directly() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    at = T0 + 26 * HOUR  # an overstay past the hold's expiry
    fee, transfers = end(session, hold, at, PaymentMethod.WALLET)
    assert hold is not None
    assert hold.status is HoldStatus.EXPIRED
    assert moves(transfers) == [(wallet(DRIVER), "debit", fee), (OPERATOR_PAYABLE, "credit", fee)]
    assert session.overstayed


def test_a_qr_exit_records_the_amount_due_and_moves_nothing_yet() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    fee, transfers = end(session, hold, T0 + 30 * MIN, PaymentMethod.QR)
    assert hold is not None
    assert hold.status is HoldStatus.VOIDED
    assert (fee, session.amount_due_vnd, session.payment_method, transfers) == (25_000, 25_000, PaymentMethod.QR, [])
    assert not session.overstayed


def test_a_free_exit_within_grace_moves_nothing_and_releases_the_hold() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    fee, transfers = end(session, hold, T0 + 5 * MIN, PaymentMethod.WALLET)
    assert hold is not None
    assert hold.status is HoldStatus.VOIDED
    assert (fee, transfers) == (0, [])


def test_an_overstay_is_flagged_and_still_paid_in_full() -> None:
    session, _ = start(expected_end=T0 + HOUR)
    fee, _ = end(session, None, T0 + 2 * HOUR, PaymentMethod.CASH)
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    assert session.overstayed
    assert fee == quote(schedule, T0, T0 + 2 * HOUR).total_vnd


def test_a_stay_longer_than_a_quote_can_bill_ends_capped_and_flagged_for_the_operator() -> None:
    session, _ = start()
    ended_at = T0 + MAX_BILLABLE + timedelta(days=34)  # a car left for 400 days
    fee, transfers = end(session, None, ended_at, PaymentMethod.CASH)
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    assert fee == quote(schedule, T0, T0 + MAX_BILLABLE).total_vnd > 0
    assert moves(transfers) == [(cash(OPERATOR), "debit", fee), (OPERATOR_PAYABLE, "credit", fee)]
    assert (session.status, session.ended_at, session.billed_until) == (
        SessionStatus.ENDED,
        ended_at,
        T0 + MAX_BILLABLE,
    )
    assert session.billing_capped
    assert session.overstayed
    assert session.segments[-1].end == T0 + MAX_BILLABLE
    history = list(session.collect_events())
    assert vars(replayed(session, history)) == vars(session)


def test_a_stay_of_exactly_the_billable_limit_is_billed_whole() -> None:
    session, _ = start()
    end(session, None, T0 + MAX_BILLABLE, PaymentMethod.CASH)
    assert (session.billed_until, session.billing_capped) == (T0 + MAX_BILLABLE, False)


def test_an_end_recorded_before_billing_was_capped_reads_as_billed_whole() -> None:
    mapper = build_mapper(CodecOptions())
    session, _ = start()
    end(session, None, T0 + 2 * HOUR, PaymentMethod.CASH)
    history: list[Any] = list(session.collect_events())
    stored = mapper.to_stored_event(history[-1])
    state = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["billed_until"]
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, mapper.transcoder.encode(state))
    rebuilt: Any = None
    for event in [*history[:-1], mapper.to_domain_event(old)]:
        rebuilt = event.mutate(rebuilt)
    assert (rebuilt.billed_until, rebuilt.billing_capped, rebuilt.fee_vnd) == (T0 + 2 * HOUR, False, session.fee_vnd)


def test_an_ended_session_refuses_every_change() -> None:
    session, _ = start()
    end(session, None, T0 + HOUR, PaymentMethod.CASH)
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    with pytest.raises(InvalidTransition, match="ended, not active"):
        session.end(T0 + 2 * HOUR, schedule, PaymentMethod.CASH, Channel.GATE)
    with pytest.raises(InvalidTransition, match="ended, not active"):
        session.extend(T0 + 3 * HOUR, T0 + 2 * HOUR, schedule, None)


def test_bad_ends_are_refused() -> None:
    session, _ = start()
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    with pytest.raises(InvalidValue, match="only a driver's session"):
        session.end(T0 + HOUR, schedule, PaymentMethod.WALLET, Channel.ATTENDANT)
    with pytest.raises(InvalidValue, match="before it started"):
        session.end(T0 - MIN, schedule, PaymentMethod.CASH, Channel.ATTENDANT)
    with pytest.raises(InvalidValue, match="payment_method"):
        session.end(T0 + HOUR, schedule, "card", Channel.ATTENDANT)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="gate report names its device"):
        session.end(T0 + HOUR, schedule, PaymentMethod.CASH, Channel.GATE)
    with pytest.raises(InvalidValue, match="timezone-aware"):
        session.extend(datetime(2025, 3, 3, 12), T0 + HOUR, schedule, None)
    with pytest.raises(InvalidValue, match="payment_reference"):
        session.end(T0 + HOUR, schedule, PaymentMethod.CASH, Channel.ATTENDANT, payment_reference="")
    assert session.status is SessionStatus.ACTIVE


def test_every_ledger_move_of_a_session_balances() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    _, transfers = end(session, hold, T0 + 5 * HOUR, PaymentMethod.WALLET)
    for transfer in transfers:
        debits = sum(e.amount_vnd for e in transfer.entries if e.side is Side.DEBIT)
        assert debits == sum(e.amount_vnd for e in transfer.entries if e.side is Side.CREDIT)
    assert hold is not None
    assert hold.posted_vnd + transfers[0].amount_vnd == session.fee_vnd


def test_replaying_a_session_reproduces_it() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    history = list(session.collect_events())
    session.extend(T0 + 2 * HOUR, T0 + 10 * MIN, registered_lot().schedule("A", VehicleClass.CAR), hold)
    end(session, None, T0 + 3 * HOUR, PaymentMethod.QR)
    history += session.collect_events()
    assert replayed(session, history) == session


def test_a_qr_payment_in_full_clears_the_amount_due_once() -> None:
    session, _ = start()
    with pytest.raises(InvalidTransition, match="does not wait for a QR payment"):
        session.record_qr_payment("PK7Q2", 25_000, T0 + HOUR)
    end(session, None, T0 + 30 * MIN, PaymentMethod.QR)
    with pytest.raises(InvalidValue, match="due 25000 VND, not 20000"):
        session.record_qr_payment("PK7Q2", 20_000, T0 + HOUR)
    with pytest.raises(InvalidValue, match="before it ended"):
        session.record_qr_payment("PK7Q2", 25_000, T0 + 29 * MIN)
    session.record_qr_payment("PK7Q2", 25_000, T0 + HOUR)
    assert (session.amount_due_vnd, session.payment_reference) == (0, "PK7Q2")
    with pytest.raises(InvalidTransition, match="already paid"):
        session.record_qr_payment("PK7Q2", 25_000, T0 + HOUR)
    history = list(session.collect_events())
    assert replayed(session, history) == session


def test_a_session_paid_otherwise_takes_no_qr_payment() -> None:
    session, _ = start()
    end(session, None, T0 + HOUR, PaymentMethod.CASH)
    with pytest.raises(InvalidTransition, match="does not wait for a QR payment"):
        session.record_qr_payment("PK7Q2", 25_000, T0 + 2 * HOUR)


def test_a_wallet_exit_beyond_what_the_wallet_can_pay_leaves_the_rest_due() -> None:
    session, hold = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    at = T0 + 5 * HOUR
    fee = session.end(at, schedule, PaymentMethod.WALLET, Channel.APP, wallet_spendable_vnd=100_000).total_vnd
    assert (fee, session.amount_due_vnd, session.overstayed) == (165_000, 65_000, True)
    paid_now = fee - session.amount_due_vnd
    transfers = settle_fee(session_cause(session.id), PaymentMethod.WALLET, paid_now, OPERATOR, DRIVER, hold, at)
    assert hold is not None
    assert (hold.status, hold.posted_vnd) == (HoldStatus.POSTED, 25_000)
    assert moves(transfers) == [(wallet(DRIVER), "debit", 75_000), (OPERATOR_PAYABLE, "credit", 75_000)]
    session.record_qr_payment("PK7Q2", 65_000, at + MIN)  # the shortfall is collected like a QR fee
    assert (session.amount_due_vnd, session.payment_method) == (0, PaymentMethod.WALLET)
    assert replayed(session, list(session.collect_events())) == session


def test_a_wallet_exit_the_wallet_covers_owes_nothing() -> None:
    session, _ = ParkingSession.start(registered_lot(), app_arrival(expected_end=T0 + HOUR), T0)
    schedule = registered_lot().schedule("A", VehicleClass.CAR)
    with pytest.raises(InvalidValue, match="wallet_spendable_vnd"):
        session.end(T0 + HOUR, schedule, PaymentMethod.WALLET, Channel.APP, wallet_spendable_vnd=-1)
    session.end(T0 + HOUR, schedule, PaymentMethod.WALLET, Channel.APP, wallet_spendable_vnd=25_000)
    assert (session.fee_vnd, session.amount_due_vnd) == (25_000, 0)
    with pytest.raises(InvalidTransition, match="already paid"):
        session.record_qr_payment("PK7Q2", 25_000, T0 + 2 * HOUR)
