"""Closing a business day over the API: every payee's batch, paid to its registered
payout account, each with its own pain.001 instruction kept as issued
(`settlement.payouts.payout_files`); and re-issuing a batch's instruction.

The claims are read inside the use case from the payables projection caught up with the
log, so a retry after a concurrent close reads fresh figures (and a stale read is
refused by the payee's payout book, see `close_settlement_batch`). One write closes
every batch of the day and records their files, or nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidValue, NotFound
from domain.ports import EventStore, ProjectionStore
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork, UseCase
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.cash_on_hand import CashOnHand, cash_not_banked
from settlement.payouts.claims import open_claims
from settlement.payouts.pain001 import BankAccount
from settlement.payouts.payables import PayablePostings
from settlement.payouts.payout_files import BatchPayoutFile, payout_file_id
from settlement.payouts.registered_payees import registered_directory
from settlement.payouts.use_cases import NothingToPay, close_settlement_batch, reissue_payouts


def batch_message_id(batch: SettlementBatch) -> str:
    """The first instruction's message id (≤ 35 characters), derived from the batch."""
    digest = hashlib.sha256(batch.end_to_end_id.encode()).hexdigest()[:10].upper()
    return f"CSP{batch.business_date:%Y%m%d}{digest}"


def close_day(
    store: EventStore,
    rows: ProjectionStore,
    *,
    business_date: date,
    calendar: SettlementCalendar,
    paying_account: BankAccount,
    closed_by: str,
    at: datetime,
) -> UseCase:
    """Result: ``batches`` (their views and message ids), ``carried`` (payees whose open
    postings net to zero or less: nothing paid, they stay open) and ``cash_not_banked``
    (operators' days whose attendants' cash has not all reached the bank: withheld)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if calendar.business_date(at) <= business_date:
            raise InvalidValue(f"business day {business_date} is still open until its cut-off")
        await ProjectionRunner(store, rows, PayablePostings()).catch_up()
        closed, carried = [], []
        for claim in await open_claims(rows, business_date, calendar):
            close = close_settlement_batch(
                claim=claim, calendar=calendar, paying_account=paying_account, closed_by=closed_by, at=at
            )
            try:
                closed.append(await uow.get(SettlementBatch, UUID((await close(uow))["id"])))
            except NothingToPay as nothing:  # nothing claimed: the net waits for the payee's next batch
                carried.append({"payee_account": claim.payee_account, "net_vnd": nothing.net_vnd})
        directory = await registered_directory(uow, [batch.payee_account for batch in closed])
        views = []
        for batch in closed:
            issued = BatchPayoutFile.issue(
                batch,
                message_id=batch_message_id(batch),
                execution_date=batch.payout_date,
                debtor=paying_account,
                creditor=directory[batch.payee_account],
                issued_by=closed_by,
                at=at,
            )
            uow.add(issued)
            views.append({**batch.view(), "message_id": issued.latest["message_id"]})
        await ProjectionRunner(store, rows, CashOnHand()).catch_up()
        cash = [day.as_dict() for day in await cash_not_banked(rows, business_date)]
        return {
            "business_date": business_date.isoformat(),
            "batches": views,
            "carried": carried,
            "cash_not_banked": cash,
        }

    return use_case


def reissue_batch(batch_id: UUID, paying_account: BankAccount | None, reissued_by: str, at: datetime) -> UseCase:
    """Issue a closed batch's instruction again to the payee's registered payout account,
    from the account that paid it (recorded with its first file, else ``paying_account``)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        batch = await uow.find(SettlementBatch, batch_id)
        if batch is None:
            raise NotFound(f"no settlement batch {batch_id}")
        files = await uow.find(BatchPayoutFile, payout_file_id(batch_id))
        paying = BankAccount(**files.latest["debtor"]) if files is not None else paying_account
        if paying is None:
            raise NotFound(f"batch {batch_id} has no payout file here: name the paying_account that paid it")
        directory = await registered_directory(uow, [batch.payee_account])
        result = await reissue_payouts([batch_id], paying, directory, reissued_by, at)(uow)
        message_id = result["message_id"]
        execution_date = max(at.astimezone(VIETNAM_TZ).date(), batch.payout_date)  # never in the past
        creditor = directory[batch.payee_account]
        if files is None:
            files = BatchPayoutFile.issue(
                batch, message_id=message_id, execution_date=execution_date, debtor=paying, creditor=creditor,
                issued_by=reissued_by, at=at,
            )  # fmt: skip
            uow.add(files)
        else:
            files.reissue(
                message_id=message_id, execution_date=execution_date, debtor=paying, creditor=creditor,
                issued_by=reissued_by, at=at,
            )  # fmt: skip
        return {**batch.view(), "message_id": message_id}

    return use_case


async def batch_file(uow: UnitOfWork, batch_id: UUID) -> tuple[bytes, str]:
    """A batch's latest instruction as issued, and its message id."""
    batch = await uow.get(SettlementBatch, batch_id)
    files = await uow.find(BatchPayoutFile, payout_file_id(batch_id))
    if files is None:
        raise NotFound(f"batch {batch_id} was not closed through the API: its payout file is the one settle wrote")
    return files.document(batch), files.latest["message_id"]
