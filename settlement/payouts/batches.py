"""Settlement batches: what one payee is paid for one business day.

`SettlementBatch` invariants:
- batches of a payee's business day are numbered 1, 2, ... (the id is derived from all
  three), so closing the same batch twice is refused by the event store;
- a batch claims the very payable postings it pays (``postings``: transfer or hold id
  and entry, see `settlement.payouts.claims`); no posting is claimed by two batches, because
  each batch is also the next entry of its payee's `PayoutBook` (``book_entry``);
- its figures are fixed when it is closed, the sums of what it claims, and
  ``net_vnd`` equals the sum of its parts plus the operator's cash it releases (cash
  withheld before, less cash withheld after: `CashWithheld`);
- closing posts the payout transfer (payee payable → our bank account) in the same
  write, so the payable falls exactly when the instruction is issued;
- lifecycle: closed → matched (its debit appeared on a bank statement) or
  closed → returned (the bank rejected it; the amount is owed again);
- while closed, its payout instruction can be re-issued (a corrected payee account, a
  file the bank never received): same EndToEndId, so the bank can refuse a duplicate,
  under a new message id; each re-issue is an event naming the message and the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from settlement.payouts.figures import CashWithheld, PayableDay

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
        postings: list[str]
        earlier_vnd: int
        book_entry: int
        cash: dict[str, int]

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 batches paid a (payee, day) figure under one cut-off and claimed no
            postings; their figures also held what earlier batches of the day had paid.
            What they paid (``net_vnd``) is kept as recorded."""
            state["figures"] = {k: v for k, v in state["figures"].items() if k != "paid_out_vnd"}
            state["postings"] = []
            state["earlier_vnd"] = 0
            state["book_entry"] = 0

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Version 2 batches withheld no cash."""
            state["cash"] = CashWithheld().as_dict()

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
        postings: list[str],
        earlier_vnd: int,
        book_entry: int,
        cash: dict[str, int],
    ) -> None:
        self.payee_account = payee_account
        self.business_date = date.fromisoformat(business_date)
        self.sequence = sequence
        self.payout_date = date.fromisoformat(payout_date)
        self.figures = PayableDay.from_dict(figures)
        self.net_vnd = net_vnd
        self.end_to_end_id = end_to_end_id
        self.closed_by = closed_by
        self.postings = tuple(postings)
        self.earlier_vnd = earlier_vnd
        self.book_entry = book_entry
        self.cash = CashWithheld(**cash)
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
        postings: Sequence[str],
        earlier_vnd: int,
        book_entry: int,
        closed_by: str,
        at: datetime,
        cash: CashWithheld | None = None,
    ) -> SettlementBatch:
        cash = cash or CashWithheld()
        net_vnd = day.net_vnd + cash.released_vnd
        if net_vnd <= 0:
            raise InvalidValue(f"nothing to pay {payee_account} for {business_date}: net {net_vnd} VND")
        if payout_date < business_date:
            raise InvalidValue("a payout cannot precede its business day")
        if not closed_by:
            raise InvalidValue("closing a batch needs the finance user's name")
        if not 1 <= sequence <= MAX_BATCHES_PER_DAY:
            raise InvalidValue(f"batch sequence must be 1-{MAX_BATCHES_PER_DAY}")
        if len(set(postings)) != len(postings) or len(postings) != day.transfers:
            raise InvalidValue("a batch claims each of the postings its figures sum, once")
        if book_entry < 1:
            raise InvalidValue("a batch is an entry of its payee's payout book (1, 2, ...)")
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
            net_vnd=net_vnd,
            # EndToEndId travels with the payout and comes back on the statement (≤ 35 chars).
            end_to_end_id=f"CSB{identifier.hex[:24].upper()}",
            closed_by=closed_by,
            postings=sorted(postings),
            earlier_vnd=earlier_vnd,
            book_entry=book_entry,
            cash=cash.as_dict(),
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
            "claimed_postings": len(self.postings),
            "earlier_vnd": self.earlier_vnd,
            "book_entry": self.book_entry,
            "cash_held_vnd": self.cash.after_vnd,
            "cash_released_vnd": self.cash.released_vnd,
        }
