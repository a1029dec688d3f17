"""Use cases of dynamic-QR payments: create, credit from a bank notice, expire, cancel.

Every bank credit posts one balanced transfer from the receiving bank account's
clearing account: to the payee for what the payment was due, to refunds payable for
any excess, to suspense when it was late or matched nothing. A payment that becomes
paid hands over to its purpose (fee invoice, parking, ticket, wallet top-up) inside
the same unit of work, so the purpose and the money change together or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import Entry, bank_clearing, credit, debit, refunds_payable, suspense
from domain.model.money import checked_vnd
from domain.model.payments import (
    BankCredit,
    CreditOutcome,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    bank_credit_id,
    payment_id,
)
from domain.model.references import find_reference, legacy_reference, make_reference
from domain.model.transfers import Transfer
from domain.services.bank_credits import (
    OTHER_ACCOUNT,
    counterparty_view,
    credit_result,
    on_another_account,
    repeated_notice,
)
from domain.services.bank_credits import BankNotice as BankNotice  # re-exported: the bank adapters' input
from domain.services.unit_of_work import UnitOfWork, UseCase

PaidHandler = Callable[[UnitOfWork, Payment, datetime], Awaitable[None]]
PAYMENT_TTL_MAX = timedelta(days=30)
# How long after a payment's expiry the notice of a transfer booked before it still pays
# it: banks notify within seconds, but a webhook retried after an outage can lag its
# booking by minutes. Beyond this the credit is late (suspense) whatever its booking time,
# so an old booking time can never pay a payment long replaced by another one.
DEFAULT_NOTICE_DELAY = timedelta(minutes=10)
# References tried for one request: one collision in 2^65 already, four in a row never.
REFERENCE_CANDIDATES = 4


@dataclass(frozen=True, slots=True)
class CollectionAccount:
    """Our bank account that a payment's QR code sends money to."""

    bank_bin: str
    account_no: str
    name: str


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": str(payment.id),
        "reference": payment.reference,
        "status": payment.status.value,
        "amount_vnd": payment.amount_vnd,
        "paid_vnd": payment.paid_vnd,
        "due_vnd": payment.due_vnd if payment.status is PaymentStatus.PENDING else 0,
        "excess_vnd": payment.excess_vnd,
        "late_vnd": payment.late_vnd,
        "purpose": payment.purpose.value,
        "purpose_id": payment.purpose_id,
        "bank_bin": payment.bank_bin,
        "account_no": payment.account_no,
        "expires_at": payment.expires_at.isoformat(),
    }


async def payment_credits(uow: UnitOfWork, payment: Payment) -> list[dict[str, Any]]:
    """The bank credits a payment took, oldest first: each transfer's bank, account,
    transaction id, amount, booking time, outcome and who sent it (its counterparty)."""
    identities = [credit.split("/", 2) for credit in payment.credits]
    ids = [bank_credit_id(bank_bin, account_no, tx) for bank_bin, account_no, tx in identities]
    await uow.prefetch(BankCredit, ids)
    credits = []
    for credit_id in ids:
        record = await uow.get(BankCredit, credit_id)
        credits.append(
            {
                "bank_bin": record.bank_bin,
                "account_no": record.account_no,
                "bank_tx_id": record.bank_tx_id,
                "amount_vnd": record.amount_vnd,
                "booked_at": record.booked_at.isoformat(),
                "outcome": record.outcome.value,
                "counterparty": counterparty_view(record),
            }
        )
    return credits


async def new_payment(
    uow: UnitOfWork,
    *,
    request_id: UUID,
    amount_vnd: int,
    payee_account: str,
    purpose: PaymentPurpose,
    purpose_id: str,
    collection: CollectionAccount,
    at: datetime,
    ttl: timedelta,
) -> Payment:
    """Create the payment for a request; the same request id always means the same payment
    (a request id reused for another amount or purpose is refused).

    Its reference is the request's first candidate (`make_reference`) that no other
    request's payment holds, so a reference collision never blocks a payment; a payment
    created under the first reference scheme (`legacy_reference`) is found as well.
    """
    if not timedelta(0) < ttl <= PAYMENT_TTL_MAX:
        raise InvalidValue(f"a payment lives between 1 second and {PAYMENT_TTL_MAX.days} days")
    wanted = (amount_vnd, purpose, purpose_id)
    legacy = await uow.find(Payment, payment_id(legacy_reference(request_id)))
    if legacy is not None and legacy.request_id is None and _asked_for(legacy) == wanted:
        return legacy
    for attempt in range(REFERENCE_CANDIDATES):
        reference = make_reference(request_id, attempt)
        existing = await uow.find(Payment, payment_id(reference))
        if existing is None:
            break
        if existing.request_id == request_id:
            if _asked_for(existing) != wanted:
                raise InvalidTransition(f"request {request_id} already created a different payment")
            return existing
    else:
        raise InvalidTransition(f"request {request_id}: every candidate reference is taken")
    payment = Payment.create(
        reference=reference,
        request_id=request_id,
        amount_vnd=amount_vnd,
        payee_account=payee_account,
        purpose=purpose,
        purpose_id=purpose_id,
        bank_bin=collection.bank_bin,
        account_no=collection.account_no,
        at=at,
        expires_at=at + ttl,
    )
    uow.add(payment)
    return payment


def _asked_for(payment: Payment) -> tuple[int, PaymentPurpose, str]:
    return payment.amount_vnd, payment.purpose, payment.purpose_id


def credit_bank_transfer(
    notice: BankNotice,
    at: datetime,
    on_paid: Mapping[PaymentPurpose, PaidHandler] | None = None,
    *,
    accepted_delay: timedelta = DEFAULT_NOTICE_DELAY,
) -> UseCase:
    """Record one bank notice received at ``at`` and post its money (module docstring).

    A credit is identified by (``notice.bank_bin``, ``notice.account_no``,
    ``notice.bank_tx_id``): banks number their own transactions. A notice of an identity
    already recorded is a duplicate when its amount is the same; with another amount, or
    with an id the same bank already used on another of our accounts, it is recorded, its
    money goes to suspense and the answer's ``flag`` says why (`bank_credits`).

    Lateness is judged by the bank's booking time (``notice.booked_at``): a transfer
    booked before its payment expired pays it when the notice arrives at most
    ``accepted_delay`` after the expiry (`DEFAULT_NOTICE_DELAY`; the service reads it
    from ``CITYSETTLE_BANK_NOTICE_DELAY_S``).

    The answer: ``bank_credit_id``, ``bank_tx_id``, ``amount_vnd``, ``outcome``,
    ``payment_reference``, ``duplicate``, ``flag`` (None, ``amount_differs`` or
    ``other_account``) and, when a payment was credited, ``payment``. ``duplicate`` is
    true when this notice was recorded before, also when the earlier delivery committed
    while this one was running: the bank gets "duplicate", never an error, and nothing
    more is written.
    """
    if notice.booked_at.tzinfo is None:
        raise InvalidValue("a bank notice's booking time must carry its UTC offset")
    if accepted_delay < timedelta(0):
        raise InvalidValue("the accepted notification delay cannot be negative")

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        checked_vnd(notice.amount_vnd)
        credit_id = bank_credit_id(notice.bank_bin, notice.account_no, notice.bank_tx_id)
        earlier = await uow.find(BankCredit, credit_id)
        if earlier is not None:  # the bank notified this transaction before
            return repeated_notice(uow, earlier, notice, at)
        reference = find_reference(notice.note)
        payment = await uow.find(Payment, payment_id(reference)) if reference else None
        if payment is not None and payment.has_credit(*_identity(notice)):
            # The same notice, processed by someone else between our two reads: the
            # payment and the credit record commit together, so the record is there now.
            return repeated_notice(uow, await uow.get(BankCredit, credit_id), notice, at)
        clearing = bank_clearing(notice.bank_bin, notice.account_no)
        entries: list[Entry] = [debit(clearing, notice.amount_vnd)]
        flag = None
        if await on_another_account(uow, notice, at):
            outcome, flag = CreditOutcome.REPEATED_ID, OTHER_ACCOUNT
            entries.append(credit(suspense(), notice.amount_vnd))
        elif payment is None:
            outcome = CreditOutcome.UNMATCHED
            entries.append(credit(suspense(), notice.amount_vnd))
        else:
            outcome = await _apply(uow, payment, notice, at, entries, on_paid or {}, accepted_delay)
        received = BankCredit.receive(
            bank_bin=notice.bank_bin,
            account_no=notice.account_no,
            bank_tx_id=notice.bank_tx_id,
            amount_vnd=notice.amount_vnd,
            note=notice.note,
            booked_at=notice.booked_at,
            payment_reference=payment.reference if payment else None,
            outcome=outcome,
            at=at,
            counterparty=notice.counterparty,
        )
        kind = f"bank_credit.{outcome.value}" + (f".{flag}" if flag else "")
        uow.add(received, Transfer.post(f"bank-credit:{credit_id}", kind, entries, at))
        result = credit_result(received, duplicate=False, flag=flag)
        if payment is not None:
            result["payment"] = payment_view(payment)
        return result

    return use_case


def _identity(notice: BankNotice) -> tuple[str, str, str]:
    return notice.bank_bin, notice.account_no, notice.bank_tx_id


async def _apply(
    uow: UnitOfWork,
    payment: Payment,
    notice: BankNotice,
    at: datetime,
    entries: list[Entry],
    on_paid: Mapping[PaymentPurpose, PaidHandler],
    accepted_delay: timedelta,
) -> CreditOutcome:
    """Credit ``payment`` with the notice, adding the credit side of its transfer to ``entries``."""
    was_pending = payment.status is PaymentStatus.PENDING
    applied = payment.credit(
        notice.bank_tx_id,
        notice.amount_vnd,
        at,
        booked_at=notice.booked_at,
        accepted_delay=accepted_delay,
        bank_bin=notice.bank_bin,
        account_no=notice.account_no,
    )
    if applied.outcome is CreditOutcome.LATE:
        entries.append(credit(suspense(), notice.amount_vnd))
    if applied.applied_vnd:
        entries.append(credit(payment.payee_account, applied.applied_vnd))
    if applied.excess_vnd:
        entries.append(credit(refunds_payable(), applied.excess_vnd))
    if was_pending and payment.status is PaymentStatus.PAID and payment.purpose in on_paid:
        await on_paid[payment.purpose](uow, payment, at)
    if was_pending:
        _refund_if_expired_unpaid(uow, payment, at)
    return applied.outcome


def owe_back(uow: UnitOfWork, payment: Payment, amount_vnd: int, cause: str, kind: str, at: datetime) -> None:
    """Money a payment brought in that its purpose cannot keep: from the payee's account
    to refunds payable, once (the transfer id is derived from ``cause``)."""
    if amount_vnd:
        entries = [debit(payment.payee_account, amount_vnd), credit(refunds_payable(), amount_vnd)]
        uow.add(Transfer.post(cause, kind, entries, at))


def _refund_if_expired_unpaid(uow: UnitOfWork, payment: Payment, at: datetime) -> None:
    """A payment that expires part-paid never fulfils its purpose: what was sent is owed back."""
    if payment.status is PaymentStatus.EXPIRED:
        owe_back(uow, payment, payment.paid_vnd, f"payment:{payment.reference}:expired-part-paid", "payment.refund", at)


def expire_payment(reference: str, at: datetime, accepted_delay: timedelta = DEFAULT_NOTICE_DELAY) -> UseCase:
    """Expire a pending payment once no transfer booked before its expiry can still be
    notified in time (``accepted_delay`` after it); what it collected part-paid is owed back."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payment = await uow.get(Payment, payment_id(reference))
        payment.expire(at, accepted_delay)
        _refund_if_expired_unpaid(uow, payment, at)
        return payment_view(payment)

    return use_case


def expire_if_lapsed(uow: UnitOfWork, payment: Payment, at: datetime, accepted_delay: timedelta) -> None:
    """Expire ``payment`` as `expire_payment` would, when it is pending and can be."""
    if payment.status is PaymentStatus.PENDING and at >= payment.expires_at + accepted_delay:
        payment.expire(at, accepted_delay)
        _refund_if_expired_unpaid(uow, payment, at)


def cancel_payment(reference: str, reason: str, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payment = await uow.get(Payment, payment_id(reference))
        payment.cancel(reason, at)
        return payment_view(payment)

    return use_case
