"""Ledger rules of parking: which holds and transfers a session or reservation causes.

- A cashless stay or booking reserves money in the driver's prepaid wallet for the
  operator with a `Hold` (debit ``wallet:<driver>``, credit ``payable:operator:<op>``).
- Paid by wallet: the hold is posted for the fee (at most what it holds; the rest is
  released), and a fee above the hold is a direct wallet transfer. A wallet never goes
  negative: when the hold and the available balance together cannot cover the fee (an
  overstay, a lapsed hold), the wallet pays what it can and the rest stays due on the
  session, to be paid by QR (`ParkingSession.amount_due_vnd`). The use case passes only
  the wallet's part here, and the `Wallet` aggregate guards every move.
- Paid in cash: ``cash:<op>`` (the attendants' float, banked later) is debited, the
  operator's payable credited; any hold is voided.
- Paid by QR: nothing moves here; the session records the amount due for the payments
  module, whose bank credit will pay the operator. Any hold is voided.
- A hold that outlived its expiry is recorded as expired rather than voided.

Causes are ``parking:session:<id>:...`` and ``parking:reservation:<id>:...``, so the
ids of every hold and transfer follow from the session or reservation (retry-safe).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.model.ledger import PartyKind, cash, credit, debit, payable, wallet
from domain.model.parking.common import DEFAULT_STAY, HOLD_SLACK, PaymentMethod
from domain.model.parking.quotes import quote
from domain.model.parking.tariffs import TariffSchedule
from domain.model.transfers import Hold, HoldStatus, Transfer

SESSION_HOLD_KIND = "parking.session"
RESERVATION_HOLD_KIND = "parking.reservation"
CASH_KIND = "parking.session.cash"
WALLET_KIND = "parking.session.wallet"


def session_cause(session: UUID) -> str:
    return f"parking:session:{session}"


def reservation_cause(reservation: UUID) -> str:
    return f"parking:reservation:{reservation}"


def place_wallet_hold(
    cause: str, kind: str, driver_id: str, operator_id: str, amount_vnd: int, at: datetime, expires_at: datetime
) -> Hold:
    return Hold.place(
        cause, kind, wallet(driver_id), payable(PartyKind.OPERATOR, operator_id), amount_vnd, at, expires_at
    )


def hold_expected_fee(
    cause: str,
    operator_id: str,
    driver_id: str,
    schedule: TariffSchedule,
    start: datetime,
    at: datetime,
    until: datetime | None,
) -> Hold | None:
    """Hold, from ``at``, the fee of a stay from ``start`` to ``until`` (by default a day,
    within the maximum stay). A free stay holds nothing: a later fee is charged directly."""
    preauth_end = until or min(schedule.latest_end(start), start + DEFAULT_STAY)
    amount = quote(schedule, start, preauth_end).total_vnd
    if amount == 0:
        return None
    # One hold per expected end: an extension's larger hold gets an id of its own.
    cause = f"{cause}:hold:{preauth_end.isoformat()}"
    return place_wallet_hold(cause, SESSION_HOLD_KIND, driver_id, operator_id, amount, at, preauth_end + HOLD_SLACK)


def is_open(hold: Hold | None, at: datetime) -> bool:
    return hold is not None and hold.status is HoldStatus.PENDING and at < hold.expires_at


def release(hold: Hold | None, reason: str, at: datetime) -> None:
    """Give back what a hold no longer needs to reserve: void it, or record its expiry."""
    if hold is None or hold.status is not HoldStatus.PENDING:
        return
    if at >= hold.expires_at:
        hold.expire(at)
    else:
        hold.void(reason, at)


def collect_from_hold(hold: Hold | None, amount_vnd: int, at: datetime) -> int:
    """Post up to ``amount_vnd`` of an open hold (releasing it when nothing is due); return what was posted."""
    if amount_vnd > 0 and hold is not None and is_open(hold, at):
        posted = min(amount_vnd, hold.amount_vnd)
        hold.post(posted, at)
        return posted
    release(hold, "nothing due" if amount_vnd == 0 else "lapsed", at)
    return 0


def settle_fee(
    cause: str,
    method: PaymentMethod,
    fee_vnd: int,
    operator_id: str,
    driver_id: str | None,
    hold: Hold | None,
    at: datetime,
) -> list[Transfer]:
    """Move a parking fee by ``method``; returns the new transfers (the hold changes in place).

    By wallet, ``fee_vnd`` is what the wallet pays: the fee less any amount left due.
    """
    operator = payable(PartyKind.OPERATOR, operator_id)
    if method is PaymentMethod.WALLET:
        assert driver_id is not None, "the session refuses wallet payment without a driver"
        rest = fee_vnd - collect_from_hold(hold, fee_vnd, at)
        if rest == 0:
            return []
        entries = [debit(wallet(driver_id), rest), credit(operator, rest)]
        return [Transfer.post(f"{cause}:wallet", WALLET_KIND, entries, at)]
    release(hold, f"paid by {method.value}", at)
    if method is PaymentMethod.CASH and fee_vnd > 0:
        entries = [debit(cash(operator_id), fee_vnd), credit(operator, fee_vnd)]
        return [Transfer.post(f"{cause}:cash", CASH_KIND, entries, at)]
    return []
