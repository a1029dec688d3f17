"""Putting money in a wallet the way riders and drivers do: a top-up paid by bank transfer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.balances import Balance, BalanceView
from domain.model.ledger import wallet
from domain.services.balances import LedgerBalances, account_key
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, CollectionAccount, credit_bank_transfer
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import execute
from domain.services.wallets import get_wallet, request_wallet_topup


async def top_up(
    store: Any, holder_id: str, amount_vnd: int, collection: CollectionAccount, at: datetime
) -> dict[str, Any]:
    """Request a top-up and pay its QR in full; returns the bank credit's result."""
    requested = (await execute(store, request_wallet_topup(holder_id, amount_vnd, collection, at))).result
    reference = requested["payment"]["reference"]
    notice = BankNotice(
        collection.bank_bin, collection.account_no, f"FT-{reference}", amount_vnd, f"{reference} nap vi", at
    )
    credited = (await execute(store, credit_bank_transfer(notice, at, ON_PAID))).result
    assert credited["payment"]["status"] == "paid", credited
    return credited


async def wallet_state(store: Any, holder_id: str) -> dict[str, Any]:
    """The wallet as its own stream says (what guards the next spend)."""
    return (await execute(store, get_wallet(holder_id))).result


async def assert_wallet_agrees_with_ledger(store: Any, holder_id: str) -> dict[str, Any]:
    """The wallet's balance is the ledger's posted balance of its account, and what it has
    reserved is what the ledger's open holds take from it; returns the wallet's state."""
    state = await wallet_state(store, holder_id)
    account = wallet(holder_id)
    await ProjectionRunner(store, store, LedgerBalances()).catch_up()
    rows = await store.get_rows(LedgerBalances.name, [account_key(account)])
    ledger = BalanceView.of(account, Balance.from_dict(rows.get(account_key(account))))
    assert (state["balance_vnd"], state["available_vnd"]) == (ledger.posted_vnd, ledger.available_vnd), ledger
    assert state["balance_vnd"] >= state["reserved_vnd"] >= 0
    return state
