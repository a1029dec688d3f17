"""Cash that attendants collected, paid into one of the city's bank accounts.

A parking fee paid in cash debits ``cash:<operator>`` (the attendants' float) and
credits the operator's payable; until the cash is deposited, the city's bank has not
got it. A `CashDeposit` records one deposit slip: the amount, the bank account it was
paid into and when the bank booked it. Its transfer moves the amount from
``cash:<operator>`` to that account's bank clearing, so the deposit appears on the
ledger side of the reconciliation and is matched against the bank's statement line like
any credit (its slip number is the payment reference).

Invariants: the amount is a positive whole number of đồng; a slip is recorded once
(the id derives from operator and slip number), and recording it again with the same
facts changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidValue
from domain.model.ledger import bank_clearing, cash, credit, debit
from domain.model.money import checked_vnd
from domain.model.transfers import Transfer

CASH_DEPOSIT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/cash-deposit")
CASH_DEPOSIT_KIND = "cash.deposit"
SLIP_MAX = 35  # what a bank's reference field carries


def cash_deposit_id(operator_id: str, slip_no: str) -> UUID:
    return uuid5(CASH_DEPOSIT_NAMESPACE, f"{operator_id}/{slip_no}")


class CashDeposit(Aggregate):
    class Recorded(Aggregate.Created):
        operator_id: str
        slip_no: str
        amount_vnd: int
        bank_bin: str
        account_no: str
        deposited_at: datetime
        recorded_by: str

    def __init__(
        self,
        operator_id: str,
        slip_no: str,
        amount_vnd: int,
        bank_bin: str,
        account_no: str,
        deposited_at: datetime,
        recorded_by: str,
    ) -> None:
        self.operator_id = operator_id
        self.slip_no = slip_no
        self.amount_vnd = amount_vnd
        self.bank_bin = bank_bin
        self.account_no = account_no
        self.deposited_at = deposited_at
        self.recorded_by = recorded_by

    @classmethod
    def record(
        cls,
        *,
        operator_id: str,
        slip_no: str,
        amount_vnd: int,
        bank_bin: str,
        account_no: str,
        deposited_at: datetime,
        recorded_by: str,
        at: datetime,
    ) -> CashDeposit:
        if checked_vnd(amount_vnd) == 0:
            raise InvalidValue("a cash deposit moves a positive amount")
        if not 1 <= len(slip_no) <= SLIP_MAX or not slip_no.isprintable():
            raise InvalidValue(f"the deposit slip number must be 1-{SLIP_MAX} printable characters")
        if not recorded_by:
            raise InvalidValue("recording a deposit needs the user's name")
        if deposited_at.tzinfo is None:
            raise InvalidValue("the deposit time must be timezone-aware")
        bank_clearing(bank_bin, account_no), cash(operator_id)  # valid account names, or InvalidValue
        return cls._create(
            cls.Recorded,
            id=cash_deposit_id(operator_id, slip_no),
            timestamp=at,
            operator_id=operator_id,
            slip_no=slip_no,
            amount_vnd=amount_vnd,
            bank_bin=bank_bin,
            account_no=account_no,
            deposited_at=deposited_at,
            recorded_by=recorded_by,
        )

    def transfer(self) -> Transfer:
        """The ledger movement: from the attendants' float into the bank, when the bank booked it."""
        amount = self.amount_vnd
        entries = [debit(bank_clearing(self.bank_bin, self.account_no), amount), credit(cash(self.operator_id), amount)]
        return Transfer.post(f"cash-deposit:{self.id}", CASH_DEPOSIT_KIND, entries, self.deposited_at)

    def same_as(self, other: CashDeposit) -> bool:
        facts = ("operator_id", "slip_no", "amount_vnd", "bank_bin", "account_no", "deposited_at")
        return all(getattr(self, f) == getattr(other, f) for f in facts)

    def view(self) -> dict[str, Any]:
        return {
            "deposit_id": str(self.id),
            "operator_id": self.operator_id,
            "slip_no": self.slip_no,
            "amount_vnd": self.amount_vnd,
            "bank_account": bank_clearing(self.bank_bin, self.account_no),
            "deposited_at": self.deposited_at.isoformat(),
            "recorded_by": self.recorded_by,
        }
