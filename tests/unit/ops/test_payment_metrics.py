"""Which committed events count as a payment, and with which (method, status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.model.wallets import Wallet
from ops.payment_metrics import METHODS, STATUSES, payment_counted

AT = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


def test_a_wallet_spend_is_a_cashless_payment_and_a_top_up_is_none() -> None:
    wallet = Wallet.open("rider-1", AT)
    wallet.top_up("payment:topup-1", 100_000, AT)
    wallet.debit("ticket:1:sale", 8_000, AT + timedelta(minutes=1))
    counted = [payment_counted(event) for event in wallet.collect_events()]
    assert counted == [None, None, ("cashless", "paid")], "money in is not a payment; a spend is"


def test_the_labels_are_bounded() -> None:
    assert (len(METHODS), len(STATUSES)) == (2, 4)
    assert payment_counted(object()) is None
