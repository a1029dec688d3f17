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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.model.ledger import AccountKind, PartyKind, Side, account_kind, payable, side_of
from domain.ports import JSONValue, Rows
from domain.services.postings import LEDGER_EVENTS, Posted, cash_flows_of, kinds_of, ledger_change
from domain.services.projections import FoldsPages
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


class PayablePostings(FoldsPages):
    # v2: postings keep their cash part, payees their deposits.
    name = "payable_postings.v2"
    handles = (SettlementBatch.Closed, *LEDGER_EVENTS)

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            if type(event) is SettlementBatch.Closed:
                _claim(event, rows)
                continue
            change = ledger_change(event, rows)
            if change is None or change[0] is None or change[0][1] == PAYOUT_KIND:
                continue
            posted = change[0]
            kinds = kinds_of(posted[3])
            _open(posted, kinds, rows)
            _deposit(posted[3], kinds, rows)


def _payee_row(rows: Rows, payee: str) -> PayeeRow:
    """The payee's row; a payee seen for the first time joins the ``payees`` list."""
    row = rows.get(payee_key(payee))
    if row is None:
        rows[PAYEES_KEY] = sorted([*(rows.get(PAYEES_KEY) or []), payee])
    return PayeeRow.from_dict(row)


_categories: dict[tuple[str, Side], tuple[str, int]] = {}  # `category_of`, remembered (few kinds)


def _category(kind: str, side: Side) -> tuple[str, int]:
    found = _categories[kind, side] = category_of(kind, side)
    return found


def _open(posted: Posted, kinds: frozenset[AccountKind], rows: Rows) -> None:
    movement_id, kind, at, entries = posted
    if AccountKind.PAYABLE not in kinds:
        return
    local_date = at.astimezone(VIETNAM_TZ).date().isoformat()
    at_us = micros(at)
    from_cash = AccountKind.CASH in kinds and AccountKind.BANK_CLEARING not in kinds
    movement = str(movement_id)
    for index, entry in enumerate(entries):
        payee = entry["account"]
        if account_kind(payee) is not AccountKind.PAYABLE:
            continue
        side = side_of(entry["side"])
        amount = entry["amount_vnd"]
        category, sign = _categories.get((kind, side)) or _category(kind, side)
        row_key = "payee:" + payee  # `payee_key`
        known = rows.get(row_key)
        if known is None or local_date not in known["days"]:  # else the payee's row stays as it is
            row = _payee_row(rows, payee)
            row.days = sorted([*row.days, local_date])
            rows[row_key] = row.as_dict()
        owed = amount if side is Side.CREDIT else -amount
        # Changed in place and put back (`Rows`): a day's row holds all its open postings,
        # and copying it for each new one made a day's postings quadratic.
        key = f"open:{payee}|{local_date}"  # `open_key`
        postings = rows.get(key) or {}
        postings[f"{movement}#{index}"] = [at_us, category, sign * amount, owed if from_cash else 0]
        rows[key] = postings


def _deposit(entries: Sequence[Mapping[str, Any]], kinds: frozenset[AccountKind], rows: Rows) -> None:
    for operator_id, _, deposited_vnd in cash_flows_of(entries, kinds):
        if deposited_vnd:
            payee = payable(PartyKind.OPERATOR, operator_id)
            row = _payee_row(rows, payee)
            row.deposited_vnd += deposited_vnd
            rows[payee_key(payee)] = row.as_dict()


def _claim(event: SettlementBatch.Closed, rows: Rows) -> None:
    row = PayeeRow.from_dict(rows.get(payee_key(event.payee_account)))
    claimed = set(event.postings)
    for local_date in list(row.days):
        key = open_key(event.payee_account, local_date)
        before = rows.get(key) or {}
        postings = {k: v for k, v in before.items() if k not in claimed}
        if postings and len(postings) < len(before):
            rows[key] = postings
        elif not postings:
            rows.pop(key, None)
            row.days.remove(local_date)
    # Batches closed before batches claimed postings (book_entry 0) are not in any book.
    if event.book_entry:
        row.batches = event.book_entry
        row.deposits_seen_vnd = event.cash["deposited_vnd"]
    rows[payee_key(event.payee_account)] = row.as_dict()
