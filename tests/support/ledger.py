"""Reading posted balances through the real projection, as finance would see them."""

from __future__ import annotations

from typing import Any

from domain.model.balances import Balance, BalanceView
from domain.services.balances import LedgerBalances, account_key
from domain.services.projections import ProjectionRunner


async def posted_balances(store: Any, *accounts: str) -> dict[str, int]:
    await ProjectionRunner(store, store, LedgerBalances()).catch_up()
    rows = await store.get_rows(LedgerBalances.name, [account_key(a) for a in accounts])
    return {a: BalanceView.of(a, Balance.from_dict(rows.get(account_key(a)))).posted_vnd for a in accounts}
