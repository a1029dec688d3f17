"""Which payee's collection account a bank notice landed on: a projection of the payees.

Bank notifications name the receiving account by its number only (PayOS, Casso and
SePay never send our bank's BIN), so the rows are keyed by account number:
``account:<no>`` → ``{bank_bin: [payee ids]}`` (several agencies may collect into one
treasury account: the payment a note names says whose money it is, the account only
which clearing account it reached); ``payee:<stream id>`` remembers each payee's current
account so that a changed one is moved, not duplicated.

A projection trails the log; `find_collection_accounts` therefore catches it up before
it concludes that an account is unknown, so a payee registered a moment ago is found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.model.payees import Payee
from domain.ports import EventStore, ProjectionStore, Rows
from domain.services.projections import FoldsPages, ProjectionRunner

CATCH_UP_TIMEOUT_S = 5.0


class ProjectionBehind(Exception):
    """The projection could not catch up in time; the caller should be asked to retry."""


@dataclass(frozen=True, slots=True)
class ReceivingAccount:
    bank_bin: str
    account_no: str
    payee_ids: tuple[str, ...]


def _account_key(account_no: str) -> str:
    return f"account:{account_no}"


class CollectionAccounts(FoldsPages):
    name = "collection_accounts"
    handles = (Payee.Registered, Payee.Changed)

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            payee_key = f"payee:{event.originator_id}"
            previous = rows.get(payee_key)
            if type(event) is Payee.Registered:
                payee_id = event.payee_id
            else:  # a Changed always follows its Registered in the log, so ``previous`` is there
                payee_id = previous["payee_id"] if previous else str(event.originator_id)
            if previous and previous["account"]:
                _remove(rows, previous["account"], payee_id)
            account = event.collection_account
            if account:
                key = _account_key(account["account_no"])
                owners = dict(rows.get(key) or {})
                owners[account["bank_bin"]] = sorted({*owners.get(account["bank_bin"], []), payee_id})
                rows[key] = owners
            kept = {"bank_bin": account["bank_bin"], "account_no": account["account_no"]} if account else None
            rows[payee_key] = {"payee_id": payee_id, "account": kept}


def _remove(rows: Rows, account: dict[str, str], payee_id: str) -> None:
    key = _account_key(account["account_no"])
    owners = dict(rows.get(key) or {})
    kept = [p for p in owners.pop(account["bank_bin"], []) if p != payee_id]
    if kept:
        owners[account["bank_bin"]] = kept
    if owners:
        rows[key] = owners
    else:
        rows.pop(key, None)


async def find_collection_accounts(log: EventStore, rows: ProjectionStore, account_no: str) -> list[ReceivingAccount]:
    """The payees' collection accounts with this number: one, normally; one per bank."""
    projection = CollectionAccounts()
    found = await rows.get_rows(projection.name, [_account_key(account_no)])
    if not found:
        # Read the log itself to its end (one query when nothing is new) rather than trust a
        # head position, which may be a moment older than the last commit.
        runner = ProjectionRunner(log, rows, projection)
        try:
            await asyncio.wait_for(runner.catch_up(), CATCH_UP_TIMEOUT_S)
        except TimeoutError:
            raise ProjectionBehind(f"{projection.name} is catching up with the log; retry shortly") from None
        found = await rows.get_rows(projection.name, [_account_key(account_no)])
    owners = found.get(_account_key(account_no)) or {}
    return [ReceivingAccount(bank_bin, account_no, tuple(payees)) for bank_bin, payees in sorted(owners.items())]
