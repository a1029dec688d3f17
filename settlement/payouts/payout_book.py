"""A payee's payout book: the order of its settlement batches, one stream per payee.

Every batch of a payee is recorded here in the same write that closes it, as the next
version of the payee's stream. Two closes racing for one payee therefore cannot both
commit (the event store refuses the second version), and a close can check that the
figures it pays were read after every earlier batch's claim (`batches`).

The book also keeps an operator's cash: how much cash-funded money its batches claimed,
and how much of it was still not banked (withheld) when the last batch closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from settlement.payouts.figures import CashWithheld

BOOK_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/settlement/payout-book")


def payout_book_id(payee_account: str) -> UUID:
    return uuid5(BOOK_NAMESPACE, payee_account)


class PayoutBook(Aggregate):
    class Opened(Aggregate.Created):
        payee_account: str

    class BatchRecorded(Aggregate.Event):
        batch_id: str
        business_date: str
        net_vnd: int
        cash_claimed_vnd: int
        cash_held_vnd: int

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 batches withheld no cash."""
            state["cash_claimed_vnd"] = 0
            state["cash_held_vnd"] = 0

        def apply(self, aggregate: PayoutBook) -> None:
            aggregate.batches += 1
            aggregate.paid_vnd += self.net_vnd
            aggregate.cash_claimed_vnd += self.cash_claimed_vnd
            aggregate.cash_held_vnd = self.cash_held_vnd

    def __init__(self, payee_account: str) -> None:
        self.payee_account = payee_account
        self.batches = 0
        self.paid_vnd = 0
        self.cash_claimed_vnd = 0  # cash-funded postings its batches claimed
        self.cash_held_vnd = 0  # of which not banked when the last batch closed: withheld

    @classmethod
    def open(cls, payee_account: str, at: datetime) -> PayoutBook:
        return cls._create(cls.Opened, id=payout_book_id(payee_account), timestamp=at, payee_account=payee_account)

    def record(self, batch_id: UUID, business_date: str, net_vnd: int, cash: CashWithheld, at: datetime) -> None:
        self.trigger_event(
            self.BatchRecorded,
            timestamp=at,
            batch_id=str(batch_id),
            business_date=business_date,
            net_vnd=net_vnd,
            cash_claimed_vnd=cash.claimed_vnd,
            cash_held_vnd=cash.after_vnd,
        )
