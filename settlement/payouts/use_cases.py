"""Use cases of settlement batches: close a payee's day (posting its payout), and
record what the bank did with it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import Side, bank_clearing, credit, debit
from domain.model.transfers import Transfer, transfer_id
from domain.services.unit_of_work import UnitOfWork, UseCase
from settlement.payouts.batches import MAX_BATCHES_PER_DAY, BatchStatus, SettlementBatch, batch_id
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.claims import Claim
from settlement.payouts.figures import CashWithheld
from settlement.payouts.pain001 import BankAccount, PayeeDirectory
from settlement.payouts.payables import PAYOUT_KIND
from settlement.payouts.payout_book import PayoutBook, payout_book_id


class NothingToPay(InvalidValue):
    """The payee's open postings (with the cash it withholds or releases) net to zero or
    less: nothing is claimed, they stay open and net against its next batch."""

    def __init__(self, message: str, net_vnd: int) -> None:
        super().__init__(message)
        self.net_vnd = net_vnd


def close_settlement_batch(
    *,
    claim: Claim,
    calendar: SettlementCalendar,
    paying_account: BankAccount,
    closed_by: str,
    at: datetime,
) -> UseCase:
    """Close a batch that claims ``claim``'s postings and posts its payout. ``claim``
    must come from `read_claim` on rows caught up with the log; if any batch of the
    payee was closed since those rows were read, it is refused as stale."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payee, business_date = claim.payee_account, claim.business_date
        if calendar.business_date(at) <= business_date:
            raise InvalidValue(f"business day {business_date} is still open until its cut-off")
        book = await uow.find(PayoutBook, payout_book_id(payee)) or PayoutBook.open(payee, at)
        if book.batches != claim.batches_seen:
            # The figures predate a batch closed meanwhile (a concurrent or repeated close):
            # its postings may be among them, and paying them would pay the same money twice.
            raise InvalidTransition(
                f"the figures for {payee} are stale: {book.batches} batches are closed, the figures "
                f"know of {claim.batches_seen}; settle again"
            )
        cash = _cash_withheld(book, claim)
        net = claim.net_vnd + cash.released_vnd
        if net <= 0:
            raise NothingToPay(f"nothing to pay {payee} for {business_date}: net {net} VND", net)
        batch = SettlementBatch.close(
            payee_account=payee,
            business_date=business_date,
            sequence=await _next_sequence(uow, payee, business_date),
            payout_date=calendar.payout_date(business_date),
            day=claim.figures,
            postings=claim.postings,
            earlier_vnd=claim.earlier_vnd,
            cash=cash,
            book_entry=book.batches + 1,
            closed_by=closed_by,
            at=at,
        )
        book.record(batch.id, business_date.isoformat(), batch.net_vnd, cash, at)
        payout = Transfer.post(
            f"settlement:{batch.id}",
            PAYOUT_KIND,
            [
                debit(payee, batch.net_vnd),
                credit(bank_clearing(paying_account.bank_bin, paying_account.account_no), batch.net_vnd),
            ],
            at,
        )
        uow.add(batch, book, payout)
        return batch.view()

    return use_case


def _cash_withheld(book: PayoutBook, claim: Claim) -> CashWithheld:
    """An operator's cash that batches have claimed but no deposit has banked yet is
    withheld from its payouts; what later deposits bank is released (paid) again."""
    claimed = book.cash_claimed_vnd + claim.cash_vnd
    return CashWithheld(
        claimed_vnd=claim.cash_vnd,
        deposited_vnd=claim.deposited_vnd,
        before_vnd=book.cash_held_vnd,
        after_vnd=max(0, claimed - claim.deposited_vnd),
    )


async def _next_sequence(uow: UnitOfWork, payee_account: str, business_date: date) -> int:
    sequence = 1
    while await uow.find(SettlementBatch, batch_id(payee_account, business_date, sequence)):
        sequence += 1
        if sequence > MAX_BATCHES_PER_DAY:
            raise InvalidValue(f"{payee_account} already has {MAX_BATCHES_PER_DAY} batches for {business_date}")
    return sequence


def match_paid_out_batches(paid_out: Mapping[UUID, str], at: datetime) -> UseCase:
    """Mark closed batches whose payout debit the bank statement showed (batch id ->
    the statement line that matched it). Already matched batches are left alone."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        matched = []
        for identifier, statement_entry in sorted(paid_out.items()):
            batch = await uow.get(SettlementBatch, identifier)
            if batch.status is BatchStatus.CLOSED:
                batch.match(statement_entry, at)
                matched.append(str(identifier))
        return {"matched_batches": matched}

    return use_case


def record_batch_returned(batch_identifier: UUID, reason: str, at: datetime) -> UseCase:
    """The bank rejected the payout: reverse it, so the payee is owed the amount again
    (it counts towards the business day on which the return is recorded)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        current = await uow.get(SettlementBatch, batch_identifier)
        current.mark_returned(reason, at)
        payout = await uow.get(Transfer, transfer_id(f"settlement:{current.id}"))
        uow.add(payout.reversal(f"settlement:{current.id}:returned", at))
        return current.view()

    return use_case


def reissue_message_id(batches: Sequence[SettlementBatch]) -> str:
    """A new pain.001 message id for re-issuing these batches: derived from their
    EndToEndIds and how often each was issued, so every re-issue gets its own (≤ 35 chars)."""
    key = "|".join(sorted(f"{b.end_to_end_id}:{len(b.reissues)}" for b in batches))
    return f"CSR{hashlib.sha256(key.encode()).hexdigest()[:20].upper()}"


def reissue_payouts(
    batch_ids: Sequence[UUID], paying_account: BankAccount, payees: PayeeDirectory, reissued_by: str, at: datetime
) -> UseCase:
    """Record that the payout instruction of these closed batches is issued again, from
    the account that paid them, to the accounts ``payees`` has for them now; one write
    for all, returning the message id."""
    paying = bank_clearing(paying_account.bank_bin, paying_account.account_no)

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if not batch_ids:
            raise InvalidValue("name at least one batch to re-issue")
        batches = []
        for identifier in dict.fromkeys(batch_ids):
            batch = await uow.find(SettlementBatch, identifier)
            if batch is None:
                raise InvalidValue(f"there is no settlement batch {identifier}")
            if batch.status is not BatchStatus.CLOSED:
                raise InvalidTransition(
                    f"batch {identifier} is {batch.status.value}: a matched batch was paid and a returned one is "
                    "owed again through a later batch; re-issuing it would pay twice"
                )
            payout = await uow.get(Transfer, transfer_id(f"settlement:{batch.id}"))
            paid_from = {e.account for e in payout.entries if e.side is Side.CREDIT}
            if paid_from != {paying}:
                # The payout is posted on that clearing account: paying from another would
                # leave the ledger and the bank statement disagreeing.
                raise InvalidValue(
                    f"batch {identifier} is paid from {', '.join(sorted(paid_from))}, not from the directory's "
                    f"paying_account {paying}; re-issue it from the same account"
                )
            batches.append(batch)
        message_id = reissue_message_id(batches)
        for batch in batches:
            account = payees[batch.payee_account]
            payee = {"bank_bin": account.bank_bin, "account_no": account.account_no, "name": account.name}
            batch.reissue_payout(message_id, payee, reissued_by, at)
        uow.add(*batches)
        return {"message_id": message_id, "batches": [b.view() for b in batches]}

    return use_case
