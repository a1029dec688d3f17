"""The ledger balances projection: one row per account, one per open hold."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.balances import Balance
from domain.model.ledger import Side
from domain.model.transfers import Hold, Transfer
from domain.ports import ProjectionView


def account_key(account: str) -> str:
    return f"account:{account}"


class LedgerBalances:
    name = "ledger_balances"

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if isinstance(event, Transfer.Posted):
            for entry in event.entries:
                await _add(view, entry["account"], Side(entry["side"]), entry["amount_vnd"], pending=False)
        elif isinstance(event, Hold.Placed):
            view.put(
                f"hold:{event.originator_id}",
                {"debit": event.debit_account, "credit": event.credit_account, "amount_vnd": event.amount_vnd},
            )
            await _add(view, event.debit_account, Side.DEBIT, event.amount_vnd, pending=True)
            await _add(view, event.credit_account, Side.CREDIT, event.amount_vnd, pending=True)
        elif isinstance(event, Hold.Posted | Hold.Voided | Hold.Expired):
            hold = await view.get(f"hold:{event.originator_id}")
            assert hold is not None, "a hold event without its placement"
            await _add(view, hold["debit"], Side.DEBIT, -hold["amount_vnd"], pending=True)
            await _add(view, hold["credit"], Side.CREDIT, -hold["amount_vnd"], pending=True)
            if isinstance(event, Hold.Posted):
                await _add(view, hold["debit"], Side.DEBIT, event.amount_vnd, pending=False)
                await _add(view, hold["credit"], Side.CREDIT, event.amount_vnd, pending=False)
            view.delete(f"hold:{event.originator_id}")


async def _add(view: ProjectionView, account: str, side: Side, amount_vnd: int, *, pending: bool) -> None:
    key = account_key(account)
    balance = Balance.from_dict(await view.get(key))
    balance.add(side, amount_vnd, pending=pending)
    view.put(key, balance.as_dict())
