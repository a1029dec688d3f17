"""Account balances as a pure fold over ledger events.

Posted amounts come from transfers and posted holds; pending amounts from open holds.
``available`` is what may still leave an account: the posted balance less what open
holds have reserved from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.model.ledger import Side, account_kind


@dataclass(slots=True)
class Balance:
    posted_debits_vnd: int = 0
    posted_credits_vnd: int = 0
    pending_debits_vnd: int = 0
    pending_credits_vnd: int = 0

    def add(self, side: Side, amount_vnd: int, *, pending: bool) -> None:
        name = self.field_for(side, pending=pending)
        setattr(self, name, getattr(self, name) + amount_vnd)

    @staticmethod
    def field_for(side: Side, *, pending: bool) -> str:
        """The field an amount on ``side`` adds to: `add` on a row kept as a dict."""
        if side is Side.DEBIT:
            return "pending_debits_vnd" if pending else "posted_debits_vnd"
        return "pending_credits_vnd" if pending else "posted_credits_vnd"

    def as_dict(self) -> dict[str, int]:
        return {
            "posted_debits_vnd": self.posted_debits_vnd,
            "posted_credits_vnd": self.posted_credits_vnd,
            "pending_debits_vnd": self.pending_debits_vnd,
            "pending_credits_vnd": self.pending_credits_vnd,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Balance:
        return cls(**data) if data else cls()


@dataclass(frozen=True, slots=True)
class BalanceView:
    """Balances on the account's normal side (debits for assets and expenses)."""

    account: str
    posted_vnd: int
    pending_vnd: int
    available_vnd: int

    @classmethod
    def of(cls, account: str, b: Balance) -> BalanceView:
        if account_kind(account).debit_normal:
            posted = b.posted_debits_vnd - b.posted_credits_vnd
            pending = b.pending_debits_vnd - b.pending_credits_vnd
            outgoing_pending = b.pending_credits_vnd
        else:
            posted = b.posted_credits_vnd - b.posted_debits_vnd
            pending = b.pending_credits_vnd - b.pending_debits_vnd
            outgoing_pending = b.pending_debits_vnd
        return cls(account, posted, pending, posted - outgoing_pending)
