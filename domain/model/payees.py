"""Payees: who the money collected for is owed to, and the bank accounts involved.

`Payee` invariants:
- identified by the id the city gives it (an agency code, an operator's id); its kind
  never changes (a payable of another kind would be another party);
- the collection account is where payers' transfers for it arrive (its ledger
  clearing account is ``bank:<bin>:<account_no>``), the payout account where
  settlement pays it; each has a 6-digit NAPAS BIN and a 1-19 character number;
- a registration that repeats the current details records nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue

PAYEE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/payee")
NAME_MAX = 200


class PayeeKind(StrEnum):
    AGENCY = "agency"
    PARKING_OPERATOR = "parking_operator"
    TRANSPORT_OPERATOR = "transport_operator"
    BUDGET = "budget"


@dataclass(frozen=True, slots=True)
class BankAccount:
    bank_bin: str
    account_no: str
    account_name: str

    def __post_init__(self) -> None:
        if not (self.bank_bin.isdigit() and len(self.bank_bin) == 6):
            raise InvalidValue("bank_bin must be the 6-digit NAPAS BIN")
        if not (self.account_no.isascii() and self.account_no.isalnum() and 1 <= len(self.account_no) <= 19):
            raise InvalidValue("account_no must be 1-19 letters or digits")
        if not self.account_name.strip() or len(self.account_name) > NAME_MAX:
            raise InvalidValue(f"account_name must be 1-{NAME_MAX} characters")

    @classmethod
    def from_dict(cls, raw: dict[str, str] | None) -> BankAccount | None:
        return None if raw is None else cls(**raw)


def payee_stream_id(payee_id: str) -> UUID:
    return uuid5(PAYEE_NAMESPACE, payee_id)


def _account_dict(account: BankAccount | None) -> dict[str, str] | None:
    return None if account is None else asdict(account)


class Payee(Aggregate):
    """A party the city collects for (see module docstring)."""

    class Registered(Aggregate.Created):
        payee_id: str
        name: str
        kind: str
        collection_account: dict[str, str] | None
        payout_account: dict[str, str] | None

    class Changed(Aggregate.Event):
        name: str
        collection_account: dict[str, str] | None
        payout_account: dict[str, str] | None

        def apply(self, aggregate: Payee) -> None:
            aggregate.name = self.name
            aggregate.collection_account = BankAccount.from_dict(self.collection_account)
            aggregate.payout_account = BankAccount.from_dict(self.payout_account)

    def __init__(
        self,
        payee_id: str,
        name: str,
        kind: str,
        collection_account: dict[str, str] | None,
        payout_account: dict[str, str] | None,
    ) -> None:
        self.payee_id = payee_id
        self.name = name
        self.kind = PayeeKind(kind)
        self.collection_account = BankAccount.from_dict(collection_account)
        self.payout_account = BankAccount.from_dict(payout_account)

    @classmethod
    def register(
        cls,
        *,
        payee_id: str,
        name: str,
        kind: PayeeKind,
        collection_account: BankAccount | None,
        payout_account: BankAccount | None,
        at: datetime,
    ) -> Payee:
        if not payee_id or len(payee_id) > 64 or ":" in payee_id:
            raise InvalidValue("payee_id must be 1-64 characters without ':'")
        _check_name(name)
        return cls._create(
            cls.Registered,
            id=payee_stream_id(payee_id),
            timestamp=at,
            payee_id=payee_id,
            name=name,
            kind=kind.value,
            collection_account=_account_dict(collection_account),
            payout_account=_account_dict(payout_account),
        )

    def change(
        self,
        *,
        name: str,
        kind: PayeeKind,
        collection_account: BankAccount | None,
        payout_account: BankAccount | None,
        at: datetime,
    ) -> bool:
        """Record new details; False when they are the current ones (nothing recorded)."""
        if kind is not self.kind:
            raise InvalidTransition(f"payee {self.payee_id} is a {self.kind}, it cannot become a {kind}")
        _check_name(name)
        if (name, collection_account, payout_account) == (self.name, self.collection_account, self.payout_account):
            return False
        self.trigger_event(
            self.Changed,
            timestamp=at,
            name=name,
            collection_account=_account_dict(collection_account),
            payout_account=_account_dict(payout_account),
        )
        return True

    def view(self) -> dict[str, Any]:
        return {
            "payee_id": self.payee_id,
            "name": self.name,
            "kind": self.kind.value,
            "collection_account": _account_dict(self.collection_account),
            "payout_account": _account_dict(self.payout_account),
        }


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > NAME_MAX:
        raise InvalidValue(f"a payee's name must be 1-{NAME_MAX} characters")
