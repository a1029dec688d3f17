"""Bank notices whose transaction id was seen before: duplicates, and repeats for finance.

A credit is identified by (bank BIN, account, transaction id) (see `domain.model.payments`).
`credit_bank_transfer` hands over here:

- the same identity again with the same amount is a duplicate: answered as one, nothing
  is written;
- the same identity with another amount is not the same transfer: the notice is recorded
  on the first credit (`BankCredit.ConflictingNoticeReceived`) and its money posted from
  the clearing account to suspense, kind ``bank_credit.repeated_id.amount_differs``;
- the same id at the same bank on another of our accounts (`BankTransaction`) is recorded
  as its own credit, but in suspense, kind ``bank_credit.repeated_id.other_account``,
  and no payment is credited with it.

Finance finds both in the suspense account's entries (the ledger entries projection) by
their kind, and on the reconciliation's exceptions, and resolves them from suspense.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.model.bank_transactions import BankTransaction, bank_transaction_id
from domain.model.ledger import bank_clearing, credit, debit, suspense
from domain.model.payments import BankCredit, Counterparty, CreditOutcome
from domain.model.transfers import Transfer
from domain.services.unit_of_work import UnitOfWork

AMOUNT_DIFFERS = "amount_differs"
OTHER_ACCOUNT = "other_account"


@dataclass(frozen=True, slots=True)
class BankNotice:
    """A bank's transfer notification, already authenticated by its adapter.

    ``booked_at`` is the bank's booking time, with its UTC offset; lateness is judged by it.
    """

    bank_bin: str
    account_no: str
    bank_tx_id: str
    amount_vnd: int
    note: str
    booked_at: datetime
    counterparty: Counterparty | None = None  # who sent it, when the notice says


def counterparty_view(record: BankCredit) -> dict[str, str] | None:
    c = record.counterparty
    return None if c is None else {"name": c.name, "account_no": c.account_no, "bank": c.bank}


def credit_result(record: BankCredit, *, duplicate: bool, flag: str | None = None) -> dict[str, Any]:
    """The answer about a recorded credit; ``flag`` says why finance must look at it."""
    return {
        "bank_credit_id": str(record.id),
        "bank_tx_id": record.bank_tx_id,
        "amount_vnd": record.amount_vnd,
        "outcome": record.outcome.value,
        "payment_reference": record.payment_reference,
        "duplicate": duplicate,
        "flag": flag,
        "counterparty": counterparty_view(record),
    }


def repeated_notice(uow: UnitOfWork, earlier: BankCredit, notice: BankNotice, at: datetime) -> dict[str, Any]:
    """A notice of a credit already recorded: a duplicate, or a conflicting notice that is
    recorded and posted to suspense (see the module docstring)."""
    number = earlier.receive_again(notice.amount_vnd, notice.note, notice.booked_at, at)
    if number is None:
        flag = AMOUNT_DIFFERS if notice.amount_vnd != earlier.amount_vnd else _flag_of(earlier)
        return {**credit_result(earlier, duplicate=True, flag=flag), "amount_vnd": notice.amount_vnd}
    clearing = bank_clearing(notice.bank_bin, notice.account_no)
    entries = [debit(clearing, notice.amount_vnd), credit(suspense(), notice.amount_vnd)]
    cause = f"bank-credit:{earlier.id}:conflict:{number}"
    uow.add(Transfer.post(cause, f"bank_credit.{CreditOutcome.REPEATED_ID.value}.{AMOUNT_DIFFERS}", entries, at))
    result = credit_result(earlier, duplicate=False, flag=AMOUNT_DIFFERS)
    return {**result, "amount_vnd": notice.amount_vnd, "outcome": CreditOutcome.REPEATED_ID.value}


def _flag_of(record: BankCredit) -> str | None:
    # Only a credit on another account is recorded with this outcome (a conflicting
    # amount is recorded on the earlier credit instead).
    return OTHER_ACCOUNT if record.outcome is CreditOutcome.REPEATED_ID else None


async def on_another_account(uow: UnitOfWork, notice: BankNotice, at: datetime) -> bool:
    """Record that the notice's transaction id credited its account; True when the id
    already credited another of our accounts at that bank."""
    seen = await uow.find(BankTransaction, bank_transaction_id(notice.bank_bin, notice.bank_tx_id))
    if seen is None:
        uow.add(
            BankTransaction.first_credit(
                bank_bin=notice.bank_bin,
                bank_tx_id=notice.bank_tx_id,
                account_no=notice.account_no,
                amount_vnd=notice.amount_vnd,
                at=at,
            )
        )
        return False
    return seen.credit_on(notice.account_no, notice.amount_vnd, at)
