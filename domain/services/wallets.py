"""Wallet use cases (top-up by dynamic QR, read) and the guard every wallet spend goes through.

The guard is called by each use case that moves money out of a wallet, with the ledger
transfer or hold it is about to append (`guard_transfer`, `guard_hold`). The wallet's
change names that transfer's or hold's cause and lands in the same unit of work, so:
- a spend the wallet cannot cover raises `InsufficientFunds` and nothing is written;
- two concurrent spends both append to the wallet's stream; the event store lets one
  win and the other use case re-runs on the fresh balance (`execute` retries);
- the wallet's balance follows the ledger's ``wallet:<holder>`` account exactly.

Money comes in by top-up: a dynamic-QR payment whose payee is the wallet's ledger
account, so the payments module's bank-credit transfer credits it; once the payment is
paid, `on_wallet_topup_paid` records the top-up on the wallet in the same unit of work.
A top-up payment credited only in part leaves that part in the ledger account but not
yet spendable: the wallet counts a top-up once its payment is paid in full.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.model.ledger import Side, wallet, wallet_holder
from domain.model.payments import Payment, PaymentPurpose
from domain.model.transfers import Hold, HoldStatus, Transfer, hold_id
from domain.model.wallets import InsufficientFunds, Wallet, wallet_id
from domain.services.payments import CollectionAccount, new_payment, payment_view
from domain.services.unit_of_work import UnitOfWork, UseCase

TOPUP_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/wallet/top-up")
# Long enough to scan the QR code and approve the transfer in a banking app.
DEFAULT_TOPUP_TTL = timedelta(minutes=15)
# Lapsed reservations a spend gives back at most, so one spend's work stays bounded; any
# others come back on the next spend.
MAX_LAPSED_PER_SPEND = 16


def wallet_view(found: Wallet | None, holder_id: str) -> dict[str, Any]:
    return {
        "wallet_id": str(wallet_id(holder_id)),
        "holder_id": holder_id,
        "account": wallet(holder_id),
        "balance_vnd": found.balance_vnd if found else 0,
        "reserved_vnd": found.reserved_vnd if found else 0,
        "available_vnd": found.available_vnd if found else 0,
    }


def get_wallet(holder_id: str) -> UseCase:
    """The wallet's balance as its own stream says, not the eventually consistent projection."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        return wallet_view(await uow.find(Wallet, wallet_id(holder_id)), holder_id)

    return use_case


def topup_cause(payment: Payment) -> str:
    return f"payment:{payment.reference}"


def request_wallet_topup(
    holder_id: str,
    amount_vnd: int,
    collection: CollectionAccount,
    at: datetime,
    *,
    request_id: UUID | None = None,
    ttl: timedelta = DEFAULT_TOPUP_TTL,
) -> UseCase:
    """Create the dynamic-QR payment that tops the wallet up by ``amount_vnd``.

    Without a ``request_id`` the payment is named by holder, time and amount, so a
    re-run of the same request finds the same payment instead of creating another.
    """

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        account = wallet(holder_id)  # refuses a holder id that cannot name an account
        payment = await new_payment(
            uow,
            request_id=request_id or uuid5(TOPUP_NAMESPACE, f"{holder_id}/{at.isoformat()}/{amount_vnd}"),
            amount_vnd=amount_vnd,
            payee_account=account,
            purpose=PaymentPurpose.WALLET_TOPUP,
            purpose_id=holder_id,
            collection=collection,
            at=at,
            ttl=ttl,
        )
        current = await uow.find(Wallet, wallet_id(holder_id))
        return wallet_view(current, holder_id) | {"payment": payment_view(payment)}

    return use_case


async def on_wallet_topup_paid(uow: UnitOfWork, payment: Payment, at: datetime) -> None:
    """Payments' hand-over for purpose "wallet_topup" (a `PaidHandler`).

    Payments has already credited the wallet's ledger account with the payment's amount
    (the payee); the wallet now counts it, opening itself on its first top-up.
    """
    holder_id = payment.purpose_id
    assert payment.payee_account == wallet(holder_id), "a top-up pays into its holder's wallet"
    found = await uow.find(Wallet, wallet_id(holder_id))
    if found is None:
        found = Wallet.open(holder_id, at)
        uow.add(found)
    found.top_up(topup_cause(payment), payment.paid_vnd, at)


async def guard_transfer(uow: UnitOfWork, transfer: Transfer, at: datetime) -> None:
    """Debit every wallet ``transfer`` takes money from, or refuse it (`InsufficientFunds`)."""
    taken: Counter[str] = Counter()
    for entry in transfer.entries:
        holder = wallet_holder(entry.account)
        if holder is not None:
            assert entry.side is Side.DEBIT, "money enters a wallet only by top-up"
            taken[holder] += entry.amount_vnd
    for holder, amount_vnd in sorted(taken.items()):
        spending = await _spending_wallet(uow, holder, transfer.cause, amount_vnd, at)
        spending.debit(transfer.cause, amount_vnd, at)


async def guard_hold(uow: UnitOfWork, hold: Hold, at: datetime) -> None:
    """Make the wallet a hold draws on follow the hold: reserve while it is pending,
    capture what it posted (releasing the rest), release it when voided or expired."""
    holder = wallet_holder(hold.debit_account)
    if holder is None:
        return
    if hold.status is HoldStatus.PENDING:
        known = await uow.find(Wallet, wallet_id(holder))
        if known is not None and hold.cause in known.reservations:
            return  # reserved when it was placed: nothing more to set aside
        spending = await _spending_wallet(uow, holder, hold.cause, hold.amount_vnd, at)
        spending.reserve(hold.cause, hold.amount_vnd, at, hold.expires_at)
        return
    # A hold that ends was reserved when it was placed, so its wallet exists.
    reserved = await uow.get(Wallet, wallet_id(holder))
    if hold.status is HoldStatus.POSTED:
        reserved.capture(hold.cause, hold.posted_vnd, at)
    else:
        reserved.release(hold.cause, hold.status.value, at)


async def wallet_spendable(uow: UnitOfWork, holder_id: str, hold: Hold | None, at: datetime) -> int:
    """What a payment from the holder's wallet can take at ``at``: the available balance
    plus what ``hold`` (the payment's own hold, if any) reserves in it."""
    found = await uow.find(Wallet, wallet_id(holder_id))
    if found is None:
        return 0
    await _give_back_lapsed(uow, found, at)
    return found.available_vnd + (found.reserved_for(hold.cause) if hold is not None else 0)


async def _spending_wallet(uow: UnitOfWork, holder_id: str, cause: str, needed_vnd: int, at: datetime) -> Wallet:
    found = await uow.find(Wallet, wallet_id(holder_id))
    if found is None:  # never topped up: nothing to spend
        raise InsufficientFunds(holder_id, needed_vnd, 0, cause)
    await _give_back_lapsed(uow, found, at)
    return found


async def _give_back_lapsed(uow: UnitOfWork, found: Wallet, at: datetime) -> None:
    """A lapsed hold can no longer be posted, so its money is the holder's again. Nothing
    may be waiting to expire it, so a spend expires it here, together with the wallet's
    reservation, and the ledger and the wallet agree."""
    for cause in found.lapsed(at)[:MAX_LAPSED_PER_SPEND]:
        hold = await uow.get(Hold, hold_id(cause))
        if hold.status is HoldStatus.PENDING:
            hold.expire(at)
        assert hold.status in (HoldStatus.EXPIRED, HoldStatus.VOIDED), "a posted hold was captured with it"
        found.release(cause, hold.status.value, at)
