"""The ledger balances projection: one row per account, one per open hold.

Posted amounts come from the postings `domain.services.postings` defines (transfers and
captured holds); pending amounts from holds between their placement and their end.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.balances import Balance
from domain.model.ledger import Side
from domain.ports import ProjectionView
from domain.services.postings import LEDGER_EVENTS, OpenHold, read_ledger_event

EMPTY = Balance().as_dict()


def account_key(account: str) -> str:
    return f"account:{account}"


class LedgerBalances:
    name = "ledger_balances"
    handles = LEDGER_EVENTS

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        change = await read_ledger_event(event, view)
        if change is None:
            return
        if change.placed is not None:
            await _reserve(view, change.placed, 1)
        if change.ended is not None:
            await _reserve(view, change.ended, -1)
        if change.posted is not None:
            for posting in change.posted.postings:
                await _add(view, posting.account, posting.side, posting.amount_vnd, pending=False)


async def _reserve(view: ProjectionView, hold: OpenHold, sign: int) -> None:
    await _add(view, hold.debit_account, Side.DEBIT, sign * hold.amount_vnd, pending=True)
    await _add(view, hold.credit_account, Side.CREDIT, sign * hold.amount_vnd, pending=True)


async def _add(view: ProjectionView, account: str, side: Side, amount_vnd: int, *, pending: bool) -> None:
    key = account_key(account)
    row = await view.get(key)
    if row is None or row.keys() != EMPTY.keys():  # a new account (or a row missing a field)
        row = {**EMPTY, **(row or {})}
    row[Balance.field_for(side, pending=pending)] += amount_vnd  # the row is ours to change and put back
    view.put(key, row)
