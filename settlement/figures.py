"""A payee's figures for one business day (sums in VND, by category)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(slots=True)
class PayableDay:
    """Sums in VND. ``net_vnd`` is what the payee is owed for the day."""

    gross_vnd: int = 0  # collected from payers (credits from bank, wallets, cash)
    subsidy_vnd: int = 0  # paid by the budget on citizens' behalf
    refunds_vnd: int = 0  # given back to payers
    chargebacks_vnd: int = 0  # reversed by banks or card schemes
    bank_charges_vnd: int = 0  # bank fees borne by the payee
    other_credits_vnd: int = 0
    other_debits_vnd: int = 0
    paid_out_vnd: int = 0  # settlement payouts already posted for the day
    transfers: int = 0

    @property
    def net_vnd(self) -> int:
        credits = self.gross_vnd + self.subsidy_vnd + self.other_credits_vnd
        debits = self.refunds_vnd + self.chargebacks_vnd + self.bank_charges_vnd + self.other_debits_vnd
        return credits - debits - self.paid_out_vnd

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PayableDay:
        return cls(**data) if data else cls()
