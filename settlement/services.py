"""Use cases of settlement batches: close a payee's day (posting its payout), and
record what the bank did with it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import bank_clearing, credit, debit
from domain.model.transfers import Transfer, transfer_id
from domain.services.unit_of_work import UnitOfWork, UseCase
from settlement.batches import MAX_BATCHES_PER_DAY, BatchStatus, SettlementBatch, batch_id
from settlement.calendar import SettlementCalendar
from settlement.figures import PayableDay
from settlement.payables import PAYOUT_KIND
from settlement.payouts import BankAccount


def close_settlement_batch(
    *,
    payee_account: str,
    business_date: date,
    day: PayableDay,
    calendar: SettlementCalendar,
    paying_account: BankAccount,
    closed_by: str,
    at: datetime,
) -> UseCase:
    """``day`` must come from a `PayableActivity` projection that has caught up with
    the log; the batch records those figures and pays their net."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if calendar.business_date(at) <= business_date:
            raise InvalidValue(f"business day {business_date} is still open until its cut-off")
        sequence, already_paid = 1, 0
        while earlier := await uow.find(SettlementBatch, batch_id(payee_account, business_date, sequence)):
            already_paid += earlier.net_vnd
            sequence += 1
            if sequence > MAX_BATCHES_PER_DAY:
                raise InvalidValue(f"{payee_account} already has {MAX_BATCHES_PER_DAY} batches for {business_date}")
        if already_paid != day.paid_out_vnd:
            # The figures predate a batch closed meanwhile (a concurrent or repeated close):
            # paying their net would pay the same money twice.
            raise InvalidTransition(
                f"the figures for {payee_account} on {business_date} are stale: batches already pay "
                f"{already_paid} VND, the figures know of {day.paid_out_vnd}; settle again"
            )
        batch = SettlementBatch.close(
            payee_account=payee_account,
            business_date=business_date,
            sequence=sequence,
            payout_date=calendar.payout_date(business_date),
            day=day,
            closed_by=closed_by,
            at=at,
        )
        payout = Transfer.post(
            f"settlement:{batch.id}",
            PAYOUT_KIND,
            [
                debit(payee_account, batch.net_vnd),
                credit(bank_clearing(paying_account.bank_bin, paying_account.account_no), batch.net_vnd),
            ],
            at,
        )
        uow.add(batch, payout)
        return batch.view()

    return use_case


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
