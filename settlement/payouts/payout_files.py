"""The payout instruction (pain.001) issued for one settlement batch, as issued.

`BatchPayoutFile` invariants:
- one stream per batch (its id derived from the batch id); each issue of the batch's
  instruction is an event naming the message id, the paying and the receiving account
  and the dates, so the very file sent can be produced again byte for byte, also after
  the payee's registered account changed;
- the first issue is recorded with the batch's closing; every re-issue has a new
  message id (`settlement.payouts.use_cases.reissue_message_id`) and the same EndToEndId.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.pain001 import BankAccount, PayeeDirectory, payout_instruction

FILE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/batch-payout-file")


def payout_file_id(batch_id: UUID) -> UUID:
    return uuid5(FILE_NAMESPACE, str(batch_id))


def _account(account: BankAccount) -> dict[str, str]:
    return {"bank_bin": account.bank_bin, "account_no": account.account_no, "name": account.name}


class BatchPayoutFile(Aggregate):
    class Issued(Aggregate.Created):
        batch_id: str
        message_id: str
        execution_date: str
        debtor: dict[str, str]
        creditor: dict[str, str]
        issued_by: str

    class Reissued(Aggregate.Event):
        message_id: str
        execution_date: str
        debtor: dict[str, str]
        creditor: dict[str, str]
        issued_by: str

        def apply(self, aggregate: BatchPayoutFile) -> None:
            aggregate.issues.append(aggregate.issue_of(self))

    def __init__(
        self,
        batch_id: str,
        message_id: str,
        execution_date: str,
        debtor: dict[str, str],
        creditor: dict[str, str],
        issued_by: str,
    ) -> None:
        self.batch_id = UUID(batch_id)
        self.issues: list[dict[str, Any]] = []
        self.issues.append(
            {
                "message_id": message_id,
                "execution_date": execution_date,
                "debtor": debtor,
                "creditor": creditor,
                "issued_by": issued_by,
            }
        )

    @staticmethod
    def issue_of(event: BatchPayoutFile.Reissued | BatchPayoutFile.Issued) -> dict[str, Any]:
        return {
            "message_id": event.message_id,
            "execution_date": event.execution_date,
            "debtor": event.debtor,
            "creditor": event.creditor,
            "issued_by": event.issued_by,
        }

    @classmethod
    def issue(
        cls,
        batch: SettlementBatch,
        *,
        message_id: str,
        execution_date: date,
        debtor: BankAccount,
        creditor: BankAccount,
        issued_by: str,
        at: datetime,
    ) -> BatchPayoutFile:
        return cls._create(
            cls.Issued,
            id=payout_file_id(batch.id),
            timestamp=at,
            batch_id=str(batch.id),
            message_id=message_id,
            execution_date=execution_date.isoformat(),
            debtor=_account(debtor),
            creditor=_account(creditor),
            issued_by=issued_by,
        )

    def reissue(
        self,
        *,
        message_id: str,
        execution_date: date,
        debtor: BankAccount,
        creditor: BankAccount,
        issued_by: str,
        at: datetime,
    ) -> None:
        if any(issue["message_id"] == message_id for issue in self.issues):
            raise InvalidTransition(f"message {message_id} was already issued for this batch")
        self.trigger_event(
            self.Reissued,
            timestamp=at,
            message_id=message_id,
            execution_date=execution_date.isoformat(),
            debtor=_account(debtor),
            creditor=_account(creditor),
            issued_by=issued_by,
        )

    @property
    def latest(self) -> dict[str, Any]:
        return self.issues[-1]

    def document(self, batch: SettlementBatch) -> bytes:
        """The latest instruction, as it was issued (every event is an issue, so the last
        one's time is its creation time)."""
        issue = self.latest
        creditor = BankAccount(**issue["creditor"])
        return payout_instruction(
            message_id=issue["message_id"],
            created_at=self.modified_on,
            execution_date=date.fromisoformat(issue["execution_date"]),
            debtor=BankAccount(**issue["debtor"]),
            batches=[batch],
            payees=PayeeDirectory({batch.payee_account: creditor}),
        )
