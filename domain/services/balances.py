"""The ledger balances projection: one row per account, one per open hold.

Posted amounts come from the postings `domain.services.postings` defines (transfers and
captured holds); pending amounts from holds between their placement and their end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.model.balances import Balance
from domain.model.ledger import Side
from domain.ports import Rows
from domain.services.postings import LEDGER_EVENTS, ledger_change
from domain.services.projections import FoldsPages

EMPTY = Balance().as_dict()
_FIELDS = EMPTY.keys()
_POSTED = {side.value: Balance.field_for(side, pending=False) for side in Side}
_PENDING_DEBIT = Balance.field_for(Side.DEBIT, pending=True)
_PENDING_CREDIT = Balance.field_for(Side.CREDIT, pending=True)


def account_key(account: str) -> str:
    return f"account:{account}"


class LedgerBalances(FoldsPages):
    name = "ledger_balances"
    handles = LEDGER_EVENTS

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        posted_field = _POSTED
        for event in events:
            change = ledger_change(event, rows)
            if change is None:
                continue
            posted, placed, ended = change
            if placed is not None:
                _reserve(rows, placed, 1)
            if ended is not None:
                _reserve(rows, ended, -1)
            if posted is not None:
                for entry in posted[3]:
                    _add(rows, entry["account"], posted_field[entry["side"]], entry["amount_vnd"])


def _reserve(rows: Rows, hold: Mapping[str, Any], sign: int) -> None:
    _add(rows, hold["debit"], _PENDING_DEBIT, sign * hold["amount_vnd"])
    _add(rows, hold["credit"], _PENDING_CREDIT, sign * hold["amount_vnd"])


def _add(rows: Rows, account: str, field: str, amount_vnd: int) -> None:
    key = "account:" + account
    row = rows.get(key)
    if row is None or row.keys() != _FIELDS:  # a new account (or a row missing a field)
        row = {**EMPTY, **(row or {})}
    row[field] += amount_vnd  # the row is ours to change and put back
    rows[key] = row
