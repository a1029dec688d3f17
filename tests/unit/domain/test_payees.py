"""Payees: accounts are checked, a kind never changes, a repeat records nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.payees import BankAccount, Payee, PayeeKind

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ACCOUNT = BankAccount("970436", "0011004455667", "SO TU PHAP")


def payee() -> Payee:
    return Payee.register(
        payee_id="stp", name="So Tu phap", kind=PayeeKind.AGENCY, collection_account=ACCOUNT, payout_account=None, at=T0
    )


@pytest.mark.parametrize(
    ("bank_bin", "account_no", "name"),
    [("97043", "1", "A"), ("97043x", "1", "A"), ("970436", "", "A"), ("970436", "1" * 20, "A"), ("970436", "1", " ")],
)
def test_bank_accounts_are_checked(bank_bin: str, account_no: str, name: str) -> None:
    with pytest.raises(InvalidValue):
        BankAccount(bank_bin, account_no, name)


def test_a_repeat_records_nothing_and_a_change_one_event() -> None:
    p = payee()
    p.collect_events()
    assert (
        p.change(name="So Tu phap", kind=PayeeKind.AGENCY, collection_account=ACCOUNT, payout_account=None, at=T0)
        is False
    )
    assert p.collect_events() == []
    assert p.change(name="So Tu phap", kind=PayeeKind.AGENCY, collection_account=ACCOUNT, payout_account=ACCOUNT, at=T0)
    assert [type(e) for e in p.collect_events()] == [Payee.Changed]
    assert p.view()["payout_account"] == {
        "bank_bin": "970436",
        "account_no": "0011004455667",
        "account_name": "SO TU PHAP",
    }


def test_a_kind_never_changes() -> None:
    with pytest.raises(InvalidTransition):
        payee().change(name="x", kind=PayeeKind.BUDGET, collection_account=None, payout_account=None, at=T0)


@pytest.mark.parametrize("payee_id", ["", "a:b", "x" * 65])
def test_payee_ids_fit_ledger_account_names(payee_id: str) -> None:
    with pytest.raises(InvalidValue):
        Payee.register(
            payee_id=payee_id, name="n", kind=PayeeKind.AGENCY, collection_account=None, payout_account=None, at=T0
        )
