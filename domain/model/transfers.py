"""Transfers (posted movements) and holds (two-phase movements) of the ledger.

Invariants:
- a `Transfer` is balanced (see `ledger.balanced`) and never changes once posted; a
  correction is a new transfer that names the one it reverses;
- a `Hold` reserves an amount from one account to another; it ends exactly once:
  posted (for at most the held amount; the rest is released), voided, or expired;
- ids are derived from the cause (``uuid5``): a retried use case recreates the same id,
  and the event store's version check refuses to write it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import Entry, Side, balanced, credit, debit
from domain.model.money import checked_vnd

TRANSFER_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/ledger/transfer")
HOLD_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/ledger/hold")


def transfer_id(cause: str) -> UUID:
    """The id of the transfer that a cause (``payment:<id>:credit:<bank tx>``) posts."""
    return uuid5(TRANSFER_NAMESPACE, cause)


def hold_id(cause: str) -> UUID:
    return uuid5(HOLD_NAMESPACE, cause)


class Transfer(Aggregate):
    """A posted, balanced movement of money."""

    class Posted(Aggregate.Created):
        cause: str
        kind: str
        entries: list[dict[str, Any]]
        reversal_of: str | None

    def __init__(self, cause: str, kind: str, entries: list[dict[str, Any]], reversal_of: str | None) -> None:
        self.cause = cause
        self.kind = kind
        self.entries = tuple(Entry.from_dict(e) for e in entries)
        self.reversal_of = reversal_of

    @classmethod
    def post(
        cls, cause: str, kind: str, entries: Sequence[Entry], at: datetime, reversal_of: str | None = None
    ) -> Transfer:
        checked = balanced(entries)
        return cls._create(
            cls.Posted,
            id=transfer_id(cause),
            timestamp=at,
            cause=cause,
            kind=kind,
            entries=[e.as_dict() for e in checked],
            reversal_of=reversal_of,
        )

    @property
    def amount_vnd(self) -> int:
        return sum(e.amount_vnd for e in self.entries if e.side is Side.DEBIT)

    def reversal(self, cause: str, at: datetime) -> Transfer:
        """A new transfer that undoes this one entry by entry."""
        flipped = [
            Entry(e.account, Side.CREDIT if e.side is Side.DEBIT else Side.DEBIT, e.amount_vnd) for e in self.entries
        ]
        return Transfer.post(cause, f"reversal:{self.kind}", flipped, at, reversal_of=str(self.id))


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class Hold(Aggregate):
    """A two-phase transfer: pending until posted, voided or expired."""

    class Placed(Aggregate.Created):
        cause: str
        kind: str
        debit_account: str
        credit_account: str
        amount_vnd: int
        expires_at: datetime

    class Posted(Aggregate.Event):
        amount_vnd: int

        def apply(self, aggregate: Hold) -> None:
            aggregate.status = HoldStatus.POSTED
            aggregate.posted_vnd = self.amount_vnd

    class Voided(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Hold) -> None:
            aggregate.status = HoldStatus.VOIDED

    class Expired(Aggregate.Event):
        def apply(self, aggregate: Hold) -> None:
            aggregate.status = HoldStatus.EXPIRED

    def __init__(
        self, cause: str, kind: str, debit_account: str, credit_account: str, amount_vnd: int, expires_at: datetime
    ) -> None:
        self.cause = cause
        self.kind = kind
        self.debit_account = debit_account
        self.credit_account = credit_account
        self.amount_vnd = amount_vnd
        self.expires_at = expires_at
        self.status = HoldStatus.PENDING
        self.posted_vnd = 0

    @classmethod
    def place(
        cls,
        cause: str,
        kind: str,
        debit_account: str,
        credit_account: str,
        amount_vnd: int,
        at: datetime,
        expires_at: datetime,
    ) -> Hold:
        balanced([debit(debit_account, amount_vnd), credit(credit_account, amount_vnd)])
        if expires_at <= at:
            raise InvalidValue("a hold must expire after it is placed")
        return cls._create(
            cls.Placed,
            id=hold_id(cause),
            timestamp=at,
            cause=cause,
            kind=kind,
            debit_account=debit_account,
            credit_account=credit_account,
            amount_vnd=amount_vnd,
            expires_at=expires_at,
        )

    def post(self, amount_vnd: int, at: datetime) -> None:
        """Post ``amount_vnd`` (at most the held amount); the rest is released."""
        self._require_open(at)
        if not 0 < checked_vnd(amount_vnd) <= self.amount_vnd:
            raise InvalidValue(f"can post 1..{self.amount_vnd} VND of this hold, not {amount_vnd}")
        self.trigger_event(self.Posted, timestamp=at, amount_vnd=amount_vnd)

    def void(self, reason: str, at: datetime) -> None:
        self._require_open(at)
        self.trigger_event(self.Voided, timestamp=at, reason=reason)

    def expire(self, at: datetime) -> None:
        if self.status is not HoldStatus.PENDING:
            raise InvalidTransition(f"hold is {self.status}, not pending")
        if at < self.expires_at:
            raise InvalidTransition("the hold has not expired yet")
        self.trigger_event(self.Expired, timestamp=at)

    def _require_open(self, at: datetime) -> None:
        if self.status is not HoldStatus.PENDING:
            raise InvalidTransition(f"hold is {self.status}, not pending")
        if at >= self.expires_at:
            raise InvalidTransition("the hold has expired")
