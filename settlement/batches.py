"""Settlement batches: what one payee is paid for one business day.

`SettlementBatch` invariants:
- batches of a payee's business day are numbered 1, 2, ... (the id is derived from all
  three), so closing the same batch twice is refused by the event store;
- its figures are fixed when it is closed, from the payee's `PayableDay`, and
  ``net_vnd`` equals the sum of its parts;
- closing posts the payout transfer (payee payable → our bank account) in the same
  write, so the payable falls exactly when the instruction is issued;
- lifecycle: closed → matched (its debit appeared on a bank statement) or
  closed → returned (the bank rejected it; the amount is owed again);
- while closed, its payout instruction can be re-issued (a corrected payee account, a
  file the bank never received): same EndToEndId, so the bank can refuse a duplicate,
  under a new message id; each re-issue is an event naming the message and the account.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from settlement.figures import PayableDay

BATCH_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/settlement-batch")


MAX_BATCHES_PER_DAY = 20


def batch_id(payee_account: str, business_date: date, sequence: int) -> UUID:
    """Batch ``sequence`` (1, 2, ...) of a payee's day: a later batch pays what arrived
    for that day after the earlier one was closed."""
    return uuid5(BATCH_NAMESPACE, f"{payee_account}|{business_date.isoformat()}|{sequence}")


class BatchStatus(StrEnum):
    CLOSED = "closed"
    MATCHED = "matched"
    RETURNED = "returned"


class SettlementBatch(Aggregate):
    class Closed(Aggregate.Created):
        payee_account: str
        business_date: str
        sequence: int
        payout_date: str
        figures: dict[str, int]
        net_vnd: int
        end_to_end_id: str
        closed_by: str

    class Matched(Aggregate.Event):
        statement_entry: str

        def apply(self, aggregate: SettlementBatch) -> None:
            aggregate.status = BatchStatus.MATCHED
            aggregate.statement_entry = self.statement_entry

    class Returned(Aggregate.Event):
        reason: str

        def apply(self, aggregate: SettlementBatch) -> None:
            aggregate.status = BatchStatus.RETURNED

    class PayoutReissued(Aggregate.Event):
        message_id: str
        payee: dict[str, str]  # the account the re-issued instruction pays: bank_bin, account_no, name
        reissued_by: str

        def apply(self, aggregate: SettlementBatch) -> None:
            aggregate.reissues.append(self.message_id)

    def __init__(
        self,
        payee_account: str,
        business_date: str,
        sequence: int,
        payout_date: str,
        figures: dict[str, int],
        net_vnd: int,
        end_to_end_id: str,
        closed_by: str,
    ) -> None:
        self.payee_account = payee_account
        self.business_date = date.fromisoformat(business_date)
        self.sequence = sequence
        self.payout_date = date.fromisoformat(payout_date)
        self.figures = PayableDay.from_dict(figures)
        self.net_vnd = net_vnd
        self.end_to_end_id = end_to_end_id
        self.closed_by = closed_by
        self.status = BatchStatus.CLOSED
        self.statement_entry: str | None = None
        self.reissues: list[str] = []  # message ids of the re-issued instructions, oldest first

    @classmethod
    def close(
        cls,
        *,
        payee_account: str,
        business_date: date,
        sequence: int,
        payout_date: date,
        day: PayableDay,
        closed_by: str,
        at: datetime,
    ) -> SettlementBatch:
        if day.net_vnd <= 0:
            raise InvalidValue(f"nothing to pay {payee_account} for {business_date}: net {day.net_vnd} VND")
        if payout_date < business_date:
            raise InvalidValue("a payout cannot precede its business day")
        if not closed_by:
            raise InvalidValue("closing a batch needs the finance user's name")
        if not 1 <= sequence <= MAX_BATCHES_PER_DAY:
            raise InvalidValue(f"batch sequence must be 1-{MAX_BATCHES_PER_DAY}")
        identifier = batch_id(payee_account, business_date, sequence)
        return cls._create(
            cls.Closed,
            id=identifier,
            timestamp=at,
            payee_account=payee_account,
            business_date=business_date.isoformat(),
            sequence=sequence,
            payout_date=payout_date.isoformat(),
            figures=day.as_dict(),
            net_vnd=day.net_vnd,
            # EndToEndId travels with the payout and comes back on the statement (≤ 35 chars).
            end_to_end_id=f"CSB{identifier.hex[:24].upper()}",
            closed_by=closed_by,
        )

    def match(self, statement_entry: str, at: datetime) -> None:
        self._require_closed()
        self.trigger_event(self.Matched, timestamp=at, statement_entry=statement_entry)

    def mark_returned(self, reason: str, at: datetime) -> None:
        self._require_closed()
        self.trigger_event(self.Returned, timestamp=at, reason=reason)

    def reissue_payout(self, message_id: str, payee: dict[str, str], reissued_by: str, at: datetime) -> None:
        """Only a closed batch: a matched one was paid, a returned one is owed again through
        a later batch, so re-issuing either would pay twice."""
        self._require_closed()
        if not reissued_by.strip():
            raise InvalidValue("re-issuing a payout needs the finance user's name")
        if message_id in self.reissues:
            raise InvalidTransition(f"message {message_id} was already issued for this batch")
        self.trigger_event(
            self.PayoutReissued, timestamp=at, message_id=message_id, payee=dict(payee), reissued_by=reissued_by
        )

    def _require_closed(self) -> None:
        if self.status is not BatchStatus.CLOSED:
            raise InvalidTransition(f"batch is {self.status}, not closed")

    def view(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "payee_account": self.payee_account,
            "business_date": self.business_date.isoformat(),
            "sequence": self.sequence,
            "payout_date": self.payout_date.isoformat(),
            "status": self.status.value,
            "net_vnd": self.net_vnd,
            "figures": self.figures.as_dict(),
            "end_to_end_id": self.end_to_end_id,
            "closed_by": self.closed_by,
            "reissues": list(self.reissues),
        }
