"""A payee's figures for a set of payable postings (sums in VND, by category)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(slots=True)
class PayableDay:
    """Sums in VND of the postings a batch claims. ``net_vnd`` is what they owe the payee."""

    gross_vnd: int = 0  # collected from payers (credits from bank, wallets, cash)
    subsidy_vnd: int = 0  # paid by the budget on citizens' behalf
    refunds_vnd: int = 0  # given back to payers
    chargebacks_vnd: int = 0  # reversed by banks or card schemes
    bank_charges_vnd: int = 0  # bank fees borne by the payee
    other_credits_vnd: int = 0
    other_debits_vnd: int = 0
    transfers: int = 0  # how many postings the sums are made of

    @property
    def net_vnd(self) -> int:
        credits = self.gross_vnd + self.subsidy_vnd + self.other_credits_vnd
        debits = self.refunds_vnd + self.chargebacks_vnd + self.bank_charges_vnd + self.other_debits_vnd
        return credits - debits

    def add(self, category: str, signed_vnd: int) -> None:
        setattr(self, category, getattr(self, category) + signed_vnd)
        self.transfers += 1

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PayableDay:
        return cls(**data) if data else cls()


@dataclass(frozen=True, slots=True)
class CashWithheld:
    """An operator's cash that its attendants still hold, withheld from a payout.

    Cash-funded postings are owed to the operator, but the money is in the attendants'
    hands, not in our bank: a batch pays them only as far as deposits have banked them.
    ``after_vnd`` = max(0, cash claimed by all the payee's batches so far - deposited).
    """

    claimed_vnd: int = 0  # the cash-funded part of the postings this batch claims
    deposited_vnd: int = 0  # all the operator's deposits the batch knew of
    before_vnd: int = 0  # withheld when the payee's previous batch closed
    after_vnd: int = 0  # withheld once this batch is closed

    @property
    def released_vnd(self) -> int:
        """Added to the batch's net: positive when deposits banked withheld cash."""
        return self.before_vnd - self.after_vnd

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
