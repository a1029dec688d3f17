"""The ledger entries projection: every posted entry of every account, numbered per account.

Rows: ``count:<account>`` (how many entries it has), ``entry:<account>:<n>`` (its n-th
entry, from 1, in log order) and ``hold:<id>`` for open holds (a posted hold's accounts
are only named when it was placed). Entries are what moves posted balances, as in the
`LedgerBalances` projection: transfers' entries and posted holds, never pending ones.
So a page of an account's entries is a read of known keys, without a range scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.model.ledger import Side
from domain.model.transfers import Hold, Transfer
from domain.ports import JSONValue, ProjectionStore, Rows
from domain.services.postings import HOLD_ENDS, LEDGER_EVENTS
from domain.services.projections import FoldsPages

NAME = "ledger_entries"


def count_key(account: str) -> str:
    return f"count:{account}"


def entry_key(account: str, number: int) -> str:
    return f"entry:{account}:{number}"


class LedgerEntries(FoldsPages):
    name = NAME
    handles = LEDGER_EVENTS

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            cls = type(event)
            if cls is Transfer.Posted:
                at, transfer = event.timestamp.isoformat(), str(event.originator_id)
                cause, kind = event.cause, event.kind
                for entry in event.entries:  # `_append`, inlined: this is most of a replay's rows
                    account = entry["account"]
                    key = "count:" + account
                    number = int(rows.get(key) or 0) + 1
                    rows[key] = number
                    rows[f"entry:{account}:{number}"] = {
                        "transfer_id": transfer,
                        "cause": cause,
                        "kind": kind,
                        "side": entry["side"],
                        "amount_vnd": entry["amount_vnd"],
                        "number": number,
                        "at": at,
                    }
            elif cls is Hold.Placed:
                hold = {"debit": event.debit_account, "credit": event.credit_account, "cause": event.cause}
                rows[f"hold:{event.originator_id}"] = {**hold, "kind": event.kind}
            elif cls in HOLD_ENDS:
                key = f"hold:{event.originator_id}"
                placed = rows.get(key)
                assert placed is not None, "a hold event without its placement"
                if cls is Hold.Posted:
                    base = {"transfer_id": str(event.originator_id), "cause": placed["cause"], "kind": placed["kind"]}
                    at = event.timestamp.isoformat()
                    for side, account in ((Side.DEBIT, placed["debit"]), (Side.CREDIT, placed["credit"])):
                        _append(rows, account, {**base, "side": side.value, "amount_vnd": event.amount_vnd}, at)
                rows.pop(key, None)


def _append(rows: Rows, account: str, record: dict[str, Any], at: str) -> None:
    """Number ``record`` (a new dict, completed here) as the account's next entry."""
    key = "count:" + account
    number = int(rows.get(key) or 0) + 1
    rows[key] = number
    record["number"] = number
    record["at"] = at
    rows[f"entry:{account}:{number}"] = record


async def account_entries(
    rows: ProjectionStore, account: str, after: int, limit: int
) -> tuple[list[JSONValue], int | None]:
    """Up to ``limit`` entries numbered above ``after``, and the cursor of the next page
    (None when this page reached the last entry)."""
    count = int((await rows.get_rows(NAME, [count_key(account)])).get(count_key(account)) or 0)
    last = min(count, after + limit)
    keys = [entry_key(account, n) for n in range(after + 1, last + 1)]
    found = await rows.get_rows(NAME, keys)
    return [found[k] for k in keys if k in found], (last if last < count else None)
