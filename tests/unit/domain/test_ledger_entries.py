"""The ledger entries projection: posted movements numbered per account, pages by key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.model.ledger import credit, debit
from domain.model.transfers import Hold, Transfer
from domain.services.ledger_entries import NAME, LedgerEntries, account_entries
from domain.services.memory_projections import InMemoryProjectionStore
from domain.services.rebuild import RowsInMemory

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BANK, AGENCY, WALLET, OPERATOR = "bank:970436:001", "payable:agency:stp", "wallet:lan", "payable:operator:hk"


async def project(*aggregates: Any) -> InMemoryProjectionStore:
    view, projection = RowsInMemory(), LedgerEntries()
    for aggregate in aggregates:
        for event in aggregate.collect_events():
            await projection.apply(event, view)
    store = InMemoryProjectionStore()
    await store.commit_projection(NAME, 0, 1, view.rows)
    return store


async def test_transfers_and_posted_holds_are_entries_pending_and_voided_holds_are_not() -> None:
    transfers = [Transfer.post(f"t{n}", "fee", [debit(BANK, 100 * n), credit(AGENCY, 100 * n)], T0) for n in (1, 2)]
    posted = Hold.place("h1", "parking", WALLET, OPERATOR, 500, T0, T0 + timedelta(hours=1))
    posted.post(400, T0 + timedelta(minutes=30))
    voided = Hold.place("h2", "parking", WALLET, OPERATOR, 500, T0, T0 + timedelta(hours=1))
    voided.void("cancelled", T0)
    pending = Hold.place("h3", "parking", WALLET, OPERATOR, 500, T0, T0 + timedelta(hours=1))
    rows = await project(*transfers, posted, voided, pending)
    page, cursor = await account_entries(rows, BANK, 0, 10)
    assert [(e["number"], e["side"], e["amount_vnd"], e["cause"]) for e in page] == [
        (1, "debit", 100, "t1"),
        (2, "debit", 200, "t2"),
    ]
    assert cursor is None
    wallet_page, _ = await account_entries(rows, WALLET, 0, 10)
    assert [(e["side"], e["amount_vnd"], e["kind"]) for e in wallet_page] == [("debit", 400, "parking")]


async def test_pages_follow_the_cursor_to_the_end() -> None:
    rows = await project(*(Transfer.post(f"t{n}", "fee", [debit(BANK, n), credit(AGENCY, n)], T0) for n in range(1, 6)))
    seen, after, pages = [], 0, 0
    while True:
        page, cursor = await account_entries(rows, AGENCY, after, 2)
        seen += [e["amount_vnd"] for e in page]
        pages += 1
        if cursor is None:
            break
        after = cursor
    assert (seen, pages) == ([1, 2, 3, 4, 5], 3)
    assert await account_entries(rows, "suspense", 0, 2) == ([], None)
