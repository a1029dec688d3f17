"""Payments counted by method and status, from the domain events this process commits.

``citysettle_payments_total{method, status}``, both labels from fixed sets (at most
eight series):

- ``cashless``: a dynamic-QR payment created (``pending``), paid in full (``paid``),
  ``expired`` or ``cancelled`` (`Payment` events), and a spend from a wallet (``paid``:
  `Wallet.Debited`, `Wallet.ReservationCaptured`: a ticket, a parking stay, a no-show fee);
- ``cash``: a parking stay with a fee paid in cash to an attendant or at a gate
  (`ParkingSession.Ended` with ``payment_method`` ``cash``), ``paid``.

A parking stay paid by QR or from the wallet is counted by its `Payment` or its wallet
spend, so nothing is counted twice. Only what the service's own workers commit is
counted (since they started; ``citysettle demo`` or other writers to the store are not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter

from domain.model.parking.sessions import ParkingSession
from domain.model.payments import Payment
from domain.model.wallets import Wallet

METHODS = ("cash", "cashless")
STATUSES = ("pending", "paid", "expired", "cancelled")
_CASHLESS: dict[type[Any], str] = {
    Payment.Created: "pending",
    Payment.Paid: "paid",
    Payment.Expired: "expired",
    Payment.Cancelled: "cancelled",
    Wallet.Debited: "paid",
    Wallet.ReservationCaptured: "paid",
}


def payment_counted(event: object) -> tuple[str, str] | None:
    """``(method, status)`` when ``event`` is a payment's step, else ``None``."""
    status = _CASHLESS.get(type(event))
    if status is not None:
        return "cashless", status
    if isinstance(event, ParkingSession.Ended) and event.payment_method == "cash" and event.fee_vnd > 0:
        return "cash", "paid"
    return None


class PaymentCounter:
    def __init__(self, counter: Counter) -> None:
        self._counter = counter

    def observe(self, events: Sequence[object]) -> None:
        for event in events:
            counted = payment_counted(event)
            if counted is not None:
                self._counter.labels(*counted).inc()
