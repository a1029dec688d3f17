"""The payable postings no settlement batch has claimed yet, per payee.

A projection over the ledger's postings (`domain.services.postings`: transfers and
captured holds, the same postings the ledger balances are made of). Every posting on a
``payable:`` account, except the payouts themselves, is open until the
`SettlementBatch.Closed` that claims it (by its key, transfer or hold id and entry) is
applied; then it is gone from the rows, so no later batch can see it, whatever its
cut-off or business day. The rows do not depend on the cut-off: a posting is kept with
its time, and the cut-off only decides which open postings a business day may claim
(`settlement.payouts.claims`).

A posting whose movement is funded from attendants' cash (``cash:<operator>``, not a
deposit) also keeps its cash part; deposits (cash -> bank) add up per operator, so a
batch can withhold the operator's cash not banked yet (`settlement.payouts.figures.CashWithheld`).

Rows: ``payees`` (payee accounts seen), ``payee:<payee>`` (the Hanoi calendar dates
holding open postings, how many batches of the payee were applied, the operator's cash
deposits and how much of them the last batch knew of) and ``open:<payee>|<date>``
(that date's open postings: key -> [time in µs, category, signed amount, cash part]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.ledger import AccountKind, PartyKind, Side, payable
from domain.ports import JSONValue, ProjectionView
from domain.services.postings import LEDGER_EVENTS, Movement, read_ledger_event
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.calendar import VIETNAM_TZ

PAYOUT_KIND = "settlement.payout"
PAYEES_KEY = "payees"


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


def payee_key(payee_account: str) -> str:
    return f"payee:{payee_account}"


def open_key(payee_account: str, local_date: str) -> str:
    return f"open:{payee_account}|{local_date}"


def micros(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp() * 1_000_000)


@dataclass(slots=True)
class PayeeRow:
    days: list[str] = field(default_factory=list)  # sorted ISO dates (Hanoi) with open postings
    batches: int = 0  # batches of this payee whose claims are applied
    deposited_vnd: int = 0  # an operator's cash deposits, all of them
    deposits_seen_vnd: int = 0  # what the payee's last batch knew of them

    @classmethod
    def from_dict(cls, data: JSONValue | None) -> PayeeRow:
        return cls(**data) if data else cls()

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": list(self.days),
            "batches": self.batches,
            "deposited_vnd": self.deposited_vnd,
            "deposits_seen_vnd": self.deposits_seen_vnd,
        }


class PayablePostings:
    # v2: postings keep their cash part, payees their deposits.
    name = "payable_postings.v2"
    handles = (SettlementBatch.Closed, *LEDGER_EVENTS)

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if isinstance(event, SettlementBatch.Closed):
            await _claim(event, view)
            return
        change = await read_ledger_event(event, view)
        if change is not None and change.posted is not None and change.posted.kind != PAYOUT_KIND:
            await _open(change.posted, view)
            await _deposit(change.posted, view)


async def _payee_row(view: ProjectionView, payee: str) -> PayeeRow:
    """The payee's row; a payee seen for the first time joins the ``payees`` list."""
    row = await view.get(payee_key(payee))
    if row is None:
        payees = list(await view.get(PAYEES_KEY) or [])
        view.put(PAYEES_KEY, sorted([*payees, payee]))
    return PayeeRow.from_dict(row)


async def _open(movement: Movement, view: ProjectionView) -> None:
    local_date = movement.at.astimezone(VIETNAM_TZ).date().isoformat()
    from_cash = movement.touches(AccountKind.CASH) and not movement.touches(AccountKind.BANK_CLEARING)
    for posting in movement.postings:
        if posting.account_kind is not AccountKind.PAYABLE:
            continue
        category, sign = category_of(movement.kind, posting.side)
        payee = posting.account
        known = await view.get(payee_key(payee))
        if known is None or local_date not in known["days"]:  # else the payee's row stays as it is
            row = await _payee_row(view, payee)
            row.days = sorted([*row.days, local_date])
            view.put(payee_key(payee), row.as_dict())
        owed = posting.amount_vnd if posting.side is Side.CREDIT else -posting.amount_vnd
        # Changed in place and put back (`ProjectionView`): a day's row holds all its open
        # postings, and copying it for each new one made a day's postings quadratic.
        postings = await view.get(open_key(payee, local_date)) or {}
        postings[posting.key] = [micros(movement.at), category, sign * posting.amount_vnd, owed if from_cash else 0]
        view.put(open_key(payee, local_date), postings)


async def _deposit(movement: Movement, view: ProjectionView) -> None:
    for flow in movement.cash_flows():
        if flow.deposited_vnd:
            payee = payable(PartyKind.OPERATOR, flow.operator_id)
            row = await _payee_row(view, payee)
            row.deposited_vnd += flow.deposited_vnd
            view.put(payee_key(payee), row.as_dict())


async def _claim(event: SettlementBatch.Closed, view: ProjectionView) -> None:
    row = PayeeRow.from_dict(await view.get(payee_key(event.payee_account)))
    claimed = set(event.postings)
    for local_date in list(row.days):
        key = open_key(event.payee_account, local_date)
        before = await view.get(key) or {}
        postings = {k: v for k, v in before.items() if k not in claimed}
        if postings and len(postings) < len(before):
            view.put(key, postings)
        elif not postings:
            view.delete(key)
            row.days.remove(local_date)
    # Batches closed before batches claimed postings (book_entry 0) are not in any book.
    if event.book_entry:
        row.batches = event.book_entry
        row.deposits_seen_vnd = event.cash["deposited_vnd"]
    view.put(payee_key(event.payee_account), row.as_dict())
