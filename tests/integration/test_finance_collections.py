"""The finance desk's day figures from real use cases on each store: collections by channel
and method, what wallets paid (not collected again), the cashless share per lot, and
suspense with its closing balance."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.model.parking import PaymentMethod
from domain.services.parking_projections import CashlessShare
from domain.services.projections import ProjectionRunner
from settlement.collections import DailyCollections, collection_days
from settlement.desk_figures import all_lots, lot_shares
from tests.support.parking import HOUR, LOT, T0, app, arrival, end, open_lot, start

DAY_BEFORE, DAY = date(2025, 3, 2), date(2025, 3, 3)  # Hanoi days of the top-up and the sessions


async def _figures(store: Any) -> None:
    for projection in (DailyCollections(), CashlessShare()):
        await ProjectionRunner(store, store, projection).catch_up()


async def test_cash_cashless_and_wallet_payments_are_counted_once(store: Any) -> None:
    await open_lot(store, wallet_vnd=500_000)  # a QR top-up the day before
    cash_session = await start(store, arrival("gate-1"))
    paid_cash = await end(store, cash_session, T0 + 2 * HOUR, PaymentMethod.CASH)
    wallet_session = await start(store, app("app-1", plate="30A-999.99"))
    paid_wallet = await end(store, wallet_session, T0 + 3 * HOUR, PaymentMethod.WALLET)
    assert paid_cash["fee_vnd"] > 0
    assert paid_wallet["fee_vnd"] > 0
    await _figures(store)
    before, day = await collection_days(store, [DAY_BEFORE, DAY])
    assert before.collections["wallet_topups"]["cashless"] == {"count": 1, "vnd": 500_000}
    assert before.total_vnd == 500_000
    assert day.collections["parking"]["cash"] == {"count": 1, "vnd": paid_cash["fee_vnd"]}
    assert day.collections["parking"]["cashless"] == {"count": 0, "vnd": 0}, "paid from the wallet: no new money"
    assert day.total_vnd == paid_cash["fee_vnd"]
    assert day.cashless_bps == 0
    shares = await lot_shares(store, [DAY])
    (lot,) = shares[DAY]
    assert lot.code == LOT
    assert (lot.cash_count, lot.cashless_count) == (1, 1), "the lot's share counts how drivers paid"
    assert lot.count_bps == 5_000
    assert all_lots(shares[DAY]).cashless_vnd == paid_wallet["fee_vnd"]


async def test_a_day_without_movements_has_zeros_and_carries_the_balance(store: Any) -> None:
    await _figures(store)
    (empty,) = await collection_days(store, [DAY])
    assert empty.total_vnd == 0
    assert all(h.closing_vnd == 0 for h in empty.held)
