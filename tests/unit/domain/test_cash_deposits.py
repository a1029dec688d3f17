"""A cash deposit slip and the ledger movement it makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.cash_deposits import CASH_DEPOSIT_KIND, CashDeposit, cash_deposit_id
from domain.model.errors import InvalidValue
from domain.model.ledger import Side, bank_clearing, cash

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def deposit(**changes: Any) -> CashDeposit:
    fields: dict[str, Any] = {
        "operator_id": "op-hoankiem",
        "slip_no": "NT-0001",
        "amount_vnd": 850_000,
        "bank_bin": "970415",
        "account_no": "1140000077",
        "deposited_at": T0,
        "recorded_by": "thu-quy.le",
        "at": T0 + timedelta(hours=1),
    }
    return CashDeposit.record(**(fields | changes))


def test_a_deposit_moves_the_attendants_cash_into_the_bank_when_the_bank_booked_it() -> None:
    recorded = deposit()
    assert recorded.id == cash_deposit_id("op-hoankiem", "NT-0001")
    transfer = recorded.transfer()
    assert (transfer.kind, transfer.amount_vnd, transfer.modified_on) == (CASH_DEPOSIT_KIND, 850_000, T0)
    assert [(e.account, e.side) for e in transfer.entries] == [
        (bank_clearing("970415", "1140000077"), Side.DEBIT),
        (cash("op-hoankiem"), Side.CREDIT),
    ]
    assert recorded.same_as(deposit(recorded_by="someone else", at=T0 + timedelta(days=1)))
    assert not recorded.same_as(deposit(amount_vnd=850_001))


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_vnd": 0},
        {"amount_vnd": 1.5},
        {"slip_no": ""},
        {"slip_no": "x" * 36},
        {"slip_no": "NT\n1"},
        {"recorded_by": ""},
        {"deposited_at": datetime(2026, 11, 23, 9, 0)},
        {"operator_id": "a:b"},
        {"bank_bin": ""},
    ],
)
def test_a_bad_deposit_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        deposit(**changes)


def test_replay_reproduces_a_deposit() -> None:
    recorded = deposit()
    replayed: Any = None
    for event in recorded.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(recorded)
