"""What each payee (merchant, operator, agency) was owed per business day, by category.

A projection over the ledger's postings (`domain.services.postings`: transfers and
captured holds, the same postings the ledger balances are made of): every posting on a
``payable:`` account adds to the payee's row for the business day of its movement, in
the category its movement's kind names. The categories are what a settlement statement shows finance.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.ledger import AccountKind, Side
from domain.ports import ProjectionView
from domain.services.postings import read_ledger_event
from settlement.batches import SettlementBatch
from settlement.calendar import SettlementCalendar
from settlement.figures import PayableDay

PAYOUT_KIND = "settlement.payout"


def category_of(kind: str, side: Side) -> tuple[str, int]:
    """The row field a payable entry adds to, and the sign it adds with.

    Transfer kinds are ``<area>.<what>`` (``bank_credit.exact``, ``fee.subsidy``,
    ``fee.refund``); a reversal (``reversal:<kind>``) takes back
    from the category of what it reverses.
    """
    if kind.startswith("reversal:"):
        category, sign = category_of(kind.removeprefix("reversal:"), _opposite(side))
        return category, -sign
    if side is Side.CREDIT:
        return ("subsidy_vnd" if kind == "fee.subsidy" else "gross_vnd"), 1
    if kind.startswith("bank_charge"):
        return "bank_charges_vnd", 1
    if kind.startswith("chargeback"):
        return "chargebacks_vnd", 1
    if kind.endswith(".refund"):
        return "refunds_vnd", 1
    return "other_debits_vnd", 1


def _opposite(side: Side) -> Side:
    return Side.CREDIT if side is Side.DEBIT else Side.DEBIT


def row_key(payee_account: str, business_date: date) -> str:
    return f"{payee_account}|{business_date.isoformat()}"


class PayableActivity:
    """Projection; ``name`` includes the calendar so a new cut-off gets its own rows."""

    def __init__(self, calendar: SettlementCalendar) -> None:
        self.calendar = calendar
        # v2: captured holds count (rows built before did not have them).
        self.name = f"payable_activity.v2@{calendar.cutoff.isoformat('minutes')}"

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if isinstance(event, SettlementBatch.Closed):
            # A payout settles the day it was computed for, whenever it is posted.
            key = row_key(event.payee_account, date.fromisoformat(event.business_date))
            row = PayableDay.from_dict(await view.get(key))
            row.paid_out_vnd += event.net_vnd
            view.put(key, row.as_dict())
            return
        change = await read_ledger_event(event, view)
        movement = change.posted if change is not None else None
        if movement is None or movement.kind == PAYOUT_KIND:
            return
        day = self.calendar.business_date(movement.at)
        for posting in movement.postings:
            if posting.account_kind is not AccountKind.PAYABLE:
                continue
            key = row_key(posting.account, day)
            row = PayableDay.from_dict(await view.get(key))
            category, sign = category_of(movement.kind, posting.side)
            setattr(row, category, getattr(row, category) + sign * posting.amount_vnd)
            row.transfers += 1
            view.put(key, row.as_dict())
