"""The ledger's side of a reconciliation: what our books say moved through a bank account.

`LedgerItem` invariants: ``amount_minor`` is positive, in ``currency``'s minor unit;
``direction`` is as the bank sees the account (CRDT = money in, which the ledger books
as a debit of the bank-clearing account), so an item and the statement line for the
same movement have the same direction and amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement.statements.model import Direction, normalise_account


@dataclass(frozen=True, slots=True)
class LedgerItem:
    item_id: str  # stable: the transfer id and entry index it comes from
    account: str  # our bank-clearing account, ``bank:<bin>:<account number>``
    direction: Direction
    amount_minor: int
    currency: str
    booking_date: date  # in the bank's time zone
    payment_reference: str | None = None
    bank_tx_id: str | None = None
    end_to_end_id: str | None = None
    batch_id: str | None = None
    resolves: str | None = None  # the case key (`settlement.reconciliation.case_keys`) this item's resolution booked

    @property
    def signed_minor(self) -> int:
        return self.amount_minor if self.direction is Direction.CREDIT else -self.amount_minor


@dataclass(frozen=True, slots=True)
class LedgerBalance:
    """Our bank-clearing account before and after the reconciled period."""

    account: str
    currency: str
    opening_minor: int
    closing_minor: int


def account_number(ledger_account: str) -> str:
    """``bank:970436:0011004455667`` -> ``0011004455667``: what a statement calls the account."""
    return normalise_account(ledger_account.rsplit(":", 1)[-1])
