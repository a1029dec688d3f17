"""The Wallet aggregate: every transition, every refusal, idempotent causes, replay."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.wallets import InsufficientFunds, Wallet, wallet_id

T0 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=2)
MAPPER = build_mapper(CodecOptions())


def funded(amount_vnd: int = 100_000) -> Wallet:
    wallet = Wallet.open("rider-lan", T0)
    wallet.top_up("payment:TOPUP1", amount_vnd, T0)
    return wallet


def state(wallet: Wallet) -> tuple[int, int, int]:
    return wallet.balance_vnd, wallet.reserved_vnd, wallet.available_vnd


def replayed(events: Sequence[Any]) -> Any:
    rebuilt: Any = None
    for event in events:
        decoded: Any = MAPPER.to_domain_event(MAPPER.to_stored_event(event))
        rebuilt = decoded.mutate(rebuilt)
    return rebuilt


def test_a_wallet_opens_empty_under_an_id_derived_from_its_holder() -> None:
    wallet = Wallet.open("rider-lan", T0)
    assert wallet.id == wallet_id("rider-lan") == Wallet.open("rider-lan", LATER).id
    assert (wallet.holder_id, *state(wallet)) == ("rider-lan", 0, 0, 0)


@pytest.mark.parametrize("holder", ["", "a:b", "x" * 65])
def test_a_holder_id_that_cannot_name_a_ledger_account_is_refused(holder: str) -> None:
    with pytest.raises(InvalidValue):
        Wallet.open(holder, T0)


def test_top_ups_and_debits_move_the_balance() -> None:
    wallet = funded(100_000)
    assert wallet.debit("ticket:1:sale", 40_000, T0)
    assert state(wallet) == (60_000, 0, 60_000)
    assert wallet.top_up("payment:TOPUP2", 5_000, T0)
    assert state(wallet) == (65_000, 0, 65_000)


def test_a_debit_beyond_the_available_balance_is_refused_and_changes_nothing() -> None:
    wallet = funded(30_000)
    wallet.reserve("parking:reservation:1", 20_000, T0, LATER)
    before = copy.deepcopy(wallet)
    with pytest.raises(InsufficientFunds) as refused:
        wallet.debit("ticket:1:sale", 10_001, T0)
    assert wallet == before
    error = refused.value
    assert (error.status, error.code) == (402, "insufficient-funds")
    assert (error.holder_id, error.needed_vnd, error.available_vnd, error.cause) == (
        "rider-lan",
        10_001,
        10_000,
        "ticket:1:sale",
    )
    assert str(error) == "wallet of rider-lan has 10000 VND available, 10001 VND needed for ticket:1:sale"
    assert wallet.debit("ticket:1:sale", 10_000, T0)  # exactly what is available is fine
    assert state(wallet) == (20_000, 20_000, 0)


def test_a_reservation_beyond_the_available_balance_is_refused() -> None:
    wallet = funded(30_000)
    with pytest.raises(InsufficientFunds, match="30000 VND available, 30001 VND needed"):
        wallet.reserve("parking:session:1:hold", 30_001, T0, LATER)
    assert state(wallet) == (30_000, 0, 30_000)


@pytest.mark.parametrize("amount", [0, -1, 2.5, True, 10**16])
def test_amounts_must_be_positive_whole_dong(amount: Any) -> None:
    wallet = funded()
    commands: list[Callable[[], bool]] = [
        lambda: wallet.top_up("c", amount, T0),
        lambda: wallet.debit("c", amount, T0),
        lambda: wallet.reserve("c", amount, T0, LATER),
    ]
    for command in commands:
        with pytest.raises(InvalidValue):
            command()
    assert state(wallet) == (100_000, 0, 100_000)


@pytest.mark.parametrize("cause", ["", "x" * 201])
def test_every_change_names_a_cause(cause: str) -> None:
    with pytest.raises(InvalidValue, match="names its cause"):
        funded().debit(cause, 1_000, T0)


def test_a_reservation_must_expire_after_it_is_made() -> None:
    with pytest.raises(InvalidValue, match="expire after"):
        funded().reserve("parking:reservation:1", 1_000, T0, T0)


def test_a_capture_spends_part_of_a_reservation_and_releases_the_rest() -> None:
    wallet = funded(100_000)
    wallet.reserve("parking:session:1:hold", 85_000, T0, LATER)
    assert state(wallet) == (100_000, 85_000, 15_000)
    assert wallet.reserved_for("parking:session:1:hold") == 85_000
    assert wallet.capture("parking:session:1:hold", 50_000, T0 + timedelta(hours=2))
    assert state(wallet) == (50_000, 0, 50_000)
    assert wallet.reserved_for("parking:session:1:hold") == 0
    captured = wallet.collect_events()[-1]
    assert isinstance(captured, Wallet.ReservationCaptured)
    assert (captured.amount_vnd, captured.released_vnd) == (50_000, 35_000)


def test_a_release_gives_the_whole_reservation_back() -> None:
    wallet = funded(100_000)
    wallet.reserve("parking:reservation:1", 50_000, T0, LATER)
    assert wallet.release("parking:reservation:1", "cancelled in time", T0)
    assert state(wallet) == (100_000, 0, 100_000)


def test_bad_captures_and_releases_are_refused() -> None:
    wallet = funded(100_000)
    wallet.reserve("hold:a", 50_000, T0, LATER)
    before = copy.deepcopy(wallet)
    with pytest.raises(InvalidValue, match=r"can capture 1\.\.50000 VND"):
        wallet.capture("hold:a", 50_001, T0)
    with pytest.raises(InvalidTransition, match="has lapsed"):
        wallet.capture("hold:a", 10_000, LATER)
    with pytest.raises(InvalidTransition, match="no open reservation hold:b"):
        wallet.capture("hold:b", 10_000, T0)
    with pytest.raises(InvalidTransition, match="no open reservation hold:b"):
        wallet.release("hold:b", "voided", T0)
    assert wallet == before


def test_a_lapsed_reservation_is_listed_and_can_only_be_released() -> None:
    wallet = funded(100_000)
    wallet.reserve("hold:short", 10_000, T0, T0 + timedelta(hours=1))
    wallet.reserve("hold:long", 20_000, T0, LATER)
    assert wallet.lapsed(T0 + timedelta(minutes=59)) == []
    assert wallet.lapsed(T0 + timedelta(hours=1)) == ["hold:short"]
    assert wallet.release("hold:short", "expired", T0 + timedelta(hours=1))
    assert state(wallet) == (100_000, 20_000, 80_000)


def test_the_same_cause_again_is_a_no_op() -> None:
    wallet = funded(100_000)
    wallet.debit("ticket:1:sale", 40_000, T0)
    wallet.reserve("hold:a", 10_000, T0, LATER)
    wallet.reserve("hold:b", 10_000, T0, LATER)
    wallet.capture("hold:a", 5_000, T0)
    wallet.release("hold:b", "voided", T0)
    wallet.collect_events()
    assert not wallet.top_up("payment:TOPUP1", 100_000, T0)
    assert not wallet.debit("ticket:1:sale", 40_000, T0)
    assert not wallet.capture("hold:a", 5_000, T0)
    assert not wallet.release("hold:b", "voided again", T0)
    wallet.reserve("hold:c", 10_000, T0, LATER)
    assert not wallet.reserve("hold:c", 10_000, T0, LATER)
    assert len(wallet.collect_events()) == 1
    assert state(wallet) == (55_000, 10_000, 45_000)


def test_a_used_cause_cannot_name_a_different_change() -> None:
    wallet = funded(100_000)
    wallet.debit("ticket:1:sale", 40_000, T0)
    wallet.reserve("hold:a", 10_000, T0, LATER)
    wallet.capture("hold:a", 5_000, T0)
    before = copy.deepcopy(wallet)
    with pytest.raises(InvalidTransition, match="ticket:1:sale already debited 40000 VND"):
        wallet.debit("ticket:1:sale", 30_000, T0)
    with pytest.raises(InvalidTransition, match="already debited"):
        wallet.reserve("ticket:1:sale", 40_000, T0, LATER)
    with pytest.raises(InvalidTransition, match="already topped_up"):
        wallet.top_up("payment:TOPUP1", 1, T0)
    with pytest.raises(InvalidTransition, match="hold:a already captured 5000 VND"):
        wallet.capture("hold:a", 4_000, T0)
    with pytest.raises(InvalidTransition, match="already captured"):
        wallet.release("hold:a", "voided", T0)
    with pytest.raises(InvalidTransition, match="already captured"):
        wallet.reserve("hold:a", 5_000, T0, LATER)
    assert wallet == before


def test_replaying_every_kind_of_event_rebuilds_the_wallet() -> None:
    wallet = funded(100_000)
    wallet.debit("ticket:1:sale", 40_000, T0)
    wallet.reserve("hold:a", 30_000, T0, LATER)
    wallet.reserve("hold:b", 10_000, T0, LATER)
    wallet.capture("hold:a", 20_000, T0 + timedelta(hours=1))
    wallet.release("hold:b", "voided", T0 + timedelta(hours=1))
    wallet.reserve("hold:c", 5_000, T0, LATER)
    events = wallet.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Opened",
        "ToppedUp",
        "Debited",
        "Reserved",
        "Reserved",
        "ReservationCaptured",
        "ReservationReleased",
        "Reserved",
    ]
    rebuilt = replayed(events)
    assert rebuilt == wallet
    assert state(rebuilt) == (40_000, 5_000, 35_000)
