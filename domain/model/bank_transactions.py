"""Which of our accounts at one bank a bank transaction id has credited.

A bank numbers its own transactions, so the same id at two banks is two transfers, and
`BankCredit` is identified by (bank BIN, account, transaction id). At one bank, the same
id on a second of our accounts is not expected: it may be a bank's error or a notice
forwarded to the wrong account. `BankTransaction` (one per bank BIN and id) remembers the
accounts an id was credited on, so that the second account's credit is recorded apart,
in suspense, and flagged for finance instead of being paid to a payee.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.money import checked_vnd

BANK_TRANSACTION_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/bank-transaction")


def bank_transaction_id(bank_bin: str, bank_tx_id: str) -> UUID:
    return uuid5(BANK_TRANSACTION_NAMESPACE, f"{bank_bin}/{bank_tx_id}")


class BankTransaction(Aggregate):
    """A bank's transaction id and the accounts it credited (see the module docstring)."""

    class FirstCredited(Aggregate.Created):
        bank_bin: str
        bank_tx_id: str
        account_no: str
        amount_vnd: int

    class CreditedOnAnotherAccount(Aggregate.Event):
        account_no: str
        amount_vnd: int

        def apply(self, aggregate: BankTransaction) -> None:
            aggregate.accounts.append(self.account_no)

    def __init__(self, bank_bin: str, bank_tx_id: str, account_no: str, amount_vnd: int) -> None:
        self.bank_bin = bank_bin
        self.bank_tx_id = bank_tx_id
        self.accounts = [account_no]

    @classmethod
    def first_credit(
        cls, *, bank_bin: str, bank_tx_id: str, account_no: str, amount_vnd: int, at: datetime
    ) -> BankTransaction:
        return cls._create(
            cls.FirstCredited,
            id=bank_transaction_id(bank_bin, bank_tx_id),
            timestamp=at,
            bank_bin=bank_bin,
            bank_tx_id=bank_tx_id,
            account_no=account_no,
            amount_vnd=checked_vnd(amount_vnd),
        )

    def credit_on(self, account_no: str, amount_vnd: int, at: datetime) -> bool:
        """Record a credit of this id on ``account_no``; True when that is another
        account than the ones it credited before (the credit must be flagged)."""
        if account_no in self.accounts:
            return False
        self.trigger_event(self.CreditedOnAnotherAccount, timestamp=at, account_no=account_no, amount_vnd=amount_vnd)
        return True
