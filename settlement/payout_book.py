"""A payee's payout book: the order of its settlement batches, one stream per payee.

Every batch of a payee is recorded here in the same write that closes it, as the next
version of the payee's stream. Two closes racing for one payee therefore cannot both
commit (the event store refuses the second version), and a close can check that the
figures it pays were read after every earlier batch's claim (`batches`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

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

        def apply(self, aggregate: PayoutBook) -> None:
            aggregate.batches += 1
            aggregate.paid_vnd += self.net_vnd

    def __init__(self, payee_account: str) -> None:
        self.payee_account = payee_account
        self.batches = 0
        self.paid_vnd = 0

    @classmethod
    def open(cls, payee_account: str, at: datetime) -> PayoutBook:
        return cls._create(cls.Opened, id=payout_book_id(payee_account), timestamp=at, payee_account=payee_account)

    def record(self, batch_id: UUID, business_date: str, net_vnd: int, at: datetime) -> None:
        self.trigger_event(
            self.BatchRecorded, timestamp=at, batch_id=str(batch_id), business_date=business_date, net_vnd=net_vnd
        )
