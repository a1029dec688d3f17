"""The ledger for finance and auditors: an account's balance, and its entries page by page.

Both read projections that the service keeps following the log, so each answer says
the log position it reflects (``as_of_position``). Pages are bounded (at most the API's
``page_max`` entries) and follow a cursor: the number of the last entry returned."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Answer, Call, Reply, Route, roles
from domain.model.balances import Balance, BalanceView
from domain.model.clients import Role
from domain.model.errors import InvalidValue, NotFound
from domain.model.ledger import account_kind
from domain.services.balances import account_key
from domain.services.ledger_entries import NAME as ENTRIES
from domain.services.ledger_entries import account_entries

BALANCES = "ledger_balances"
READERS = roles(Role.FINANCE, Role.AUDITOR)
Cursor = Annotated[int, msgspec.Meta(ge=0)]


class AccountAnswer(Answer):
    account_id: str
    debits_vnd: int
    credits_vnd: int
    balance_vnd: int
    pending_debits_vnd: int
    pending_credits_vnd: int
    available_vnd: int
    as_of_position: int


class EntryAnswer(Answer):
    number: int
    transfer_id: str
    cause: str
    kind: str
    side: str
    amount_vnd: int
    at: str


class EntriesAnswer(Answer):
    account_id: str
    entries: list[EntryAnswer]
    next_cursor: str | None
    as_of_position: int


def _account(call: Call) -> str:
    account = call.param("account_id")
    try:
        account_kind(account)
    except InvalidValue:
        raise NotFound(f"no ledger account {account!r}") from None
    return account


async def balance(call: Call) -> Reply:
    account = _account(call)
    rows = call.services.projections
    position = await rows.tracking_position(BALANCES)
    found = (await rows.get_rows(BALANCES, [account_key(account)])).get(account_key(account))
    b = Balance.from_dict(found)
    view = BalanceView.of(account, b)
    answer = AccountAnswer(
        account_id=account,
        debits_vnd=b.posted_debits_vnd,
        credits_vnd=b.posted_credits_vnd,
        balance_vnd=view.posted_vnd,
        pending_debits_vnd=b.pending_debits_vnd,
        pending_credits_vnd=b.pending_credits_vnd,
        available_vnd=view.available_vnd,
        as_of_position=position,
    )
    return Reply(200, answer)


def query_int(call: Call, name: str, default: int, high: int) -> int:
    raw = call.request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= high:
        raise Problem(
            422, "Invalid query", f"{name} must be an integer 0-{high}", f"{PROBLEM_BASE}invalid-query", field=name
        )
    return int(raw)


def page_query(call: Call) -> tuple[int, int]:
    """A list call's ``cursor`` (what the previous page ended with; 0 from the start) and
    ``limit`` (default and at most the service's page bound)."""
    page_max = call.services.limits.page_max
    limit = query_int(call, "limit", page_max, page_max) or page_max
    return query_int(call, "cursor", 0, 10**12), limit


async def entries(call: Call) -> Reply:
    account = _account(call)
    after, limit = page_query(call)
    rows = call.services.projections
    position = await rows.tracking_position(ENTRIES)
    page, next_cursor = await account_entries(rows, account, after, limit)
    listed: list[Any] = page
    answer = EntriesAnswer(
        account_id=account,
        entries=msgspec.convert(listed, list[EntryAnswer]),
        next_cursor=None if next_cursor is None else str(next_cursor),
        as_of_position=position,
    )
    return Reply(200, answer)


ROUTES = [
    Route(
        "GET", "/v1/ledger/accounts/{account_id}", balance, READERS,
        "An account's posted and pending balance (bank:<bin>:<account_no> is a collection account's clearing)",
        response=AccountAnswer,
    ),
    Route(
        "GET", "/v1/ledger/accounts/{account_id}/entries", entries, READERS,
        "An account's posted entries, oldest first, a bounded page at a time",
        response=EntriesAnswer,
        query=(("cursor", "next_cursor of the previous page"), ("limit", "entries per page, at most 200")),
    ),
]  # fmt: skip
