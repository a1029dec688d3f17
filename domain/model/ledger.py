"""Double-entry ledger: the chart of accounts and balanced sets of entries.

Invariants: every entry moves a positive whole number of đồng on a known account; a set
of entries forms a transfer only when it touches at least two accounts and its debits
equal its credits (`balanced`). Transfers themselves are in `domain.model.transfers`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from domain.model.errors import InvalidValue
from domain.model.money import checked_vnd


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class AccountKind(StrEnum):
    """Chart of accounts. Assets and expenses grow with debits, the rest with credits."""

    BANK_CLEARING = "bank"  # money at a bank account of ours (asset)
    SUSPENSE = "suspense"  # credits we could not match yet (liability)
    PAYABLE = "payable"  # owed to a merchant, operator or agency (liability)
    FEE_REVENUE = "revenue"  # the city's own fee income (income)
    SUBSIDY = "subsidy"  # fees the budget pays for citizens (expense)
    REFUNDS_PAYABLE = "refunds"  # owed back to payers (liability)
    BANK_CHARGES = "charges"  # fees the banks took (expense)
    WALLET = "wallet"  # a rider's or driver's prepaid balance (liability)
    CASH = "cash"  # cash collected by an operator's attendants, not yet banked (asset)

    @property
    def debit_normal(self) -> bool:
        return self in (AccountKind.BANK_CLEARING, AccountKind.CASH, AccountKind.SUBSIDY, AccountKind.BANK_CHARGES)


class PartyKind(StrEnum):
    MERCHANT = "merchant"
    OPERATOR = "operator"
    AGENCY = "agency"


def _account(kind: AccountKind, *parts: str) -> str:
    for part in parts:
        if not part or ":" in part or len(part) > 64:
            raise InvalidValue(f"account name part {part!r} must be 1-64 characters without ':'")
    return ":".join((kind.value, *parts))


def bank_clearing(bank_bin: str, account_no: str) -> str:
    return _account(AccountKind.BANK_CLEARING, bank_bin, account_no)


def suspense() -> str:
    return AccountKind.SUSPENSE.value


def payable(party: PartyKind, party_id: str) -> str:
    return _account(AccountKind.PAYABLE, party.value, party_id)


def fee_revenue(agency_id: str) -> str:
    return _account(AccountKind.FEE_REVENUE, agency_id)


def subsidy(budget_id: str) -> str:
    return _account(AccountKind.SUBSIDY, budget_id)


def refunds_payable() -> str:
    return AccountKind.REFUNDS_PAYABLE.value


def bank_charges(bank_bin: str) -> str:
    return _account(AccountKind.BANK_CHARGES, bank_bin)


def wallet(holder_id: str) -> str:
    return _account(AccountKind.WALLET, holder_id)


def wallet_holder(account: str) -> str | None:
    """The holder of a ``wallet:<holder>`` account; None for any other account."""
    kind, _, holder = account.partition(":")
    return holder if kind == AccountKind.WALLET.value and holder else None


def cash(operator_id: str) -> str:
    return _account(AccountKind.CASH, operator_id)


_KINDS = {kind.value: kind for kind in AccountKind}  # a dict lookup is 5x faster than the enum's call
_SIDES = {side.value: side for side in Side}


@lru_cache(maxsize=16_384)  # projections ask for the same few accounts' kinds over and over
def account_kind(account: str) -> AccountKind:
    kind = _KINDS.get(account.split(":", 1)[0])
    if kind is None:
        raise InvalidValue(f"unknown account {account!r}")
    return kind


def side_of(value: str) -> Side:
    """``Side(value)``, as fast as a dict lookup (projections read a side per entry)."""
    try:
        return _SIDES[value]
    except KeyError:
        raise ValueError(f"{value!r} is not a valid Side") from None


@dataclass(frozen=True, slots=True)
class Entry:
    account: str
    side: Side
    amount_vnd: int

    def __post_init__(self) -> None:
        account_kind(self.account)
        if checked_vnd(self.amount_vnd) == 0:
            raise InvalidValue("a ledger entry moves a positive amount")

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "side": self.side.value, "amount_vnd": self.amount_vnd}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        return cls(data["account"], Side(data["side"]), data["amount_vnd"])


def debit(account: str, amount_vnd: int) -> Entry:
    return Entry(account, Side.DEBIT, amount_vnd)


def credit(account: str, amount_vnd: int) -> Entry:
    return Entry(account, Side.CREDIT, amount_vnd)


def balanced(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """Validate a set of entries as one transfer; drop nothing, reorder nothing."""
    result = tuple(entries)
    if len(result) < 2 or len({e.account for e in result}) < 2:
        raise InvalidValue("a transfer needs at least two entries on at least two accounts")
    debits = sum(e.amount_vnd for e in result if e.side is Side.DEBIT)
    credits = sum(e.amount_vnd for e in result if e.side is Side.CREDIT)
    if debits != credits:
        raise InvalidValue(f"transfer does not balance: debits {debits} != credits {credits}")
    return result
