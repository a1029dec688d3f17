"""Dynamic-QR payment intents and the bank credits matched to them.

`Payment` invariants:
- amount, payee and reference never change after creation; the reference is short,
  upper-case alphanumeric with a check character, so it fits a VietQR bill number and
  can be found again in a transfer note that a bank truncated or decorated;
- lifecycle: pending → paid | expired | cancelled; only a pending payment takes credits
  towards its amount; ``paid_vnd`` never exceeds ``amount_vnd`` (the excess of an
  overpayment is owed back to the payer);
- lateness is judged by the bank's booking time: a credit booked before the payment
  expired counts when its notice arrives up to an accepted delay after expiry (a bank's
  notification can lag its booking); one booked at or after expiry, notified beyond that
  delay, or arriving after cancellation is late: it changes no balance due and waits for
  finance to accept or refund it. A booking time later than the notice's arrival is
  taken as the arrival (the bank's clock ran ahead);
- the same bank transaction is credited at most once: a bank numbers its own
  transactions, so a credit is identified by (bank BIN, account, transaction id), in
  `BankCredit` ids and in a payment's credits alike.

`BankCredit` records every notice of one such identity: the first is the credit; a
repeat with the same amount is a duplicate (nothing happens); a repeat with another
amount is not the same transfer, and is recorded as a conflicting notice for finance.
It keeps the counterparty (who sent the money) as the notice names it, for refunds and
for finance: nothing is decided by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.money import checked_vnd
from domain.model.references import valid_reference

COUNTERPARTY_FIELD_MAX = 200


@dataclass(frozen=True, slots=True)
class Counterparty:
    """Who sent the money, as far as the bank's notice says: the payer's name, account and
    bank (a BIN or the bank's name); empty when it does not say."""

    name: str = ""
    account_no: str = ""
    bank: str = ""

    def recorded(self) -> dict[str, str] | None:
        """As a credit records it (each part bounded), or ``None`` when nothing is known."""
        parts = {"name": self.name, "account_no": self.account_no, "bank": self.bank}
        if not any(parts.values()):
            return None
        return {key: value[:COUNTERPARTY_FIELD_MAX] for key, value in parts.items()}


PAYMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/payment")
BANK_CREDIT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/bank-credit")


class PaymentPurpose(StrEnum):
    FEE_INVOICE = "fee_invoice"
    PARKING_SESSION = "parking_session"
    TICKET = "ticket"
    WALLET_TOPUP = "wallet_topup"  # the payee is the holder's wallet; purpose_id is the holder id


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class CreditOutcome(StrEnum):
    EXACT = "exact"  # completes the payment exactly
    PARTIAL = "partial"  # underpaid: the payment stays open with a balance due
    OVERPAID = "overpaid"  # completes it; the excess is owed back
    LATE = "late"  # after expiry or cancellation: held in suspense for a decision
    UNMATCHED = "unmatched"  # no payment found: suspense
    # The bank's transaction id was already used with another amount or on another of
    # our accounts at that bank: not the same transfer, not necessarily a new one either;
    # suspense, for finance to decide.
    REPEATED_ID = "repeated_id"


@dataclass(frozen=True, slots=True)
class CreditApplied:
    outcome: CreditOutcome
    applied_vnd: int
    excess_vnd: int


def payment_id(reference: str) -> UUID:
    """Payments are found by reference alone: that is all a bank note carries."""
    return uuid5(PAYMENT_NAMESPACE, reference)


def bank_credit_id(bank_bin: str, account_no: str, bank_tx_id: str) -> UUID:
    return uuid5(BANK_CREDIT_NAMESPACE, f"{bank_bin}/{account_no}/{bank_tx_id}")


class Payment(Aggregate):
    """A request to pay a fixed amount to a payee by bank transfer (see module docstring)."""

    class Created(Aggregate.Created):
        class_version = 2
        reference: str
        request_id: UUID | None  # None: created before requests were recorded (v1)
        amount_vnd: int
        payee_account: str
        purpose: str
        purpose_id: str
        bank_bin: str
        account_no: str
        expires_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["request_id"] = None

    class Credited(Aggregate.Event):
        class_version = 2
        bank_bin: str | None  # None: recorded before credits named their account (v1),
        account_no: str | None  # which was then taken to be the payment's own
        bank_tx_id: str
        amount_vnd: int
        applied_vnd: int
        excess_vnd: int
        outcome: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["bank_bin"] = state["account_no"] = None

        def apply(self, aggregate: Payment) -> None:
            aggregate.paid_vnd += self.applied_vnd
            aggregate.excess_vnd += self.excess_vnd
            bank_bin, account_no = self.bank_bin or aggregate.bank_bin, self.account_no or aggregate.account_no
            aggregate.credits.append(f"{bank_bin}/{account_no}/{self.bank_tx_id}")
            if self.outcome == CreditOutcome.LATE:
                aggregate.late_vnd += self.amount_vnd

    class Paid(Aggregate.Event):
        def apply(self, aggregate: Payment) -> None:
            aggregate.status = PaymentStatus.PAID

    class Expired(Aggregate.Event):
        def apply(self, aggregate: Payment) -> None:
            aggregate.status = PaymentStatus.EXPIRED

    class Cancelled(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Payment) -> None:
            aggregate.status = PaymentStatus.CANCELLED

    def __init__(
        self,
        reference: str,
        request_id: UUID | None,
        amount_vnd: int,
        payee_account: str,
        purpose: str,
        purpose_id: str,
        bank_bin: str,
        account_no: str,
        expires_at: datetime,
    ) -> None:
        self.reference = reference
        self.request_id = request_id
        self.amount_vnd = amount_vnd
        self.payee_account = payee_account
        self.purpose = PaymentPurpose(purpose)
        self.purpose_id = purpose_id
        self.bank_bin = bank_bin
        self.account_no = account_no
        self.expires_at = expires_at
        self.status = PaymentStatus.PENDING
        self.paid_vnd = 0
        self.excess_vnd = 0
        self.late_vnd = 0
        self.credits: list[str] = []  # "<bin>/<account>/<transaction id>" of every credit taken

    @classmethod
    def create(
        cls,
        *,
        reference: str,
        request_id: UUID,
        amount_vnd: int,
        payee_account: str,
        purpose: PaymentPurpose,
        purpose_id: str,
        bank_bin: str,
        account_no: str,
        at: datetime,
        expires_at: datetime,
    ) -> Payment:
        if checked_vnd(amount_vnd) == 0:
            raise InvalidValue("a payment is for a positive amount")
        if expires_at <= at:
            raise InvalidValue("a payment must expire after it is created")
        if not (bank_bin.isdigit() and len(bank_bin) == 6):
            raise InvalidValue("bank_bin must be the 6-digit NAPAS BIN")
        if not (account_no.isalnum() and 1 <= len(account_no) <= 19):
            raise InvalidValue("account_no must be 1-19 letters or digits")
        if not valid_reference(reference):
            raise InvalidValue(f"{reference!r} is not a payment reference")
        return cls._create(
            cls.Created,
            id=payment_id(reference),
            timestamp=at,
            reference=reference,
            request_id=request_id,
            amount_vnd=amount_vnd,
            payee_account=payee_account,
            purpose=purpose.value,
            purpose_id=purpose_id,
            bank_bin=bank_bin,
            account_no=account_no,
            expires_at=expires_at,
        )

    @property
    def due_vnd(self) -> int:
        return self.amount_vnd - self.paid_vnd

    def credit(
        self,
        bank_tx_id: str,
        amount_vnd: int,
        at: datetime,
        *,
        booked_at: datetime | None = None,
        accepted_delay: timedelta = timedelta(0),
        bank_bin: str | None = None,
        account_no: str | None = None,
    ) -> CreditApplied:
        """Apply a bank credit received at ``at`` on the account ``bank_bin``/``account_no``
        (default: the payment's own) and booked by the bank at ``booked_at`` (default:
        ``at``); say how much went to the payee and how much is excess."""
        if checked_vnd(amount_vnd) == 0:
            raise InvalidValue("a bank credit is for a positive amount")
        bank_bin, account_no = bank_bin or self.bank_bin, account_no or self.account_no
        if self.has_credit(bank_bin, account_no, bank_tx_id):
            raise InvalidTransition(f"bank transaction {bank_tx_id} on {bank_bin}/{account_no} was already credited")
        if self.status is PaymentStatus.PENDING and not self.on_time(at, booked_at or at, accepted_delay):
            self.trigger_event(self.Expired, timestamp=at)
        if self.status in (PaymentStatus.EXPIRED, PaymentStatus.CANCELLED):
            applied, outcome = 0, CreditOutcome.LATE
        elif self.status is PaymentStatus.PAID:
            applied, outcome = 0, CreditOutcome.OVERPAID
        else:
            applied = min(amount_vnd, self.due_vnd)
            outcome = (
                CreditOutcome.PARTIAL
                if applied < self.due_vnd
                else (CreditOutcome.EXACT if applied == amount_vnd else CreditOutcome.OVERPAID)
            )
        excess = 0 if outcome is CreditOutcome.LATE else amount_vnd - applied
        self.trigger_event(
            self.Credited,
            timestamp=at,
            bank_bin=bank_bin,
            account_no=account_no,
            bank_tx_id=bank_tx_id,
            amount_vnd=amount_vnd,
            applied_vnd=applied,
            excess_vnd=excess,
            outcome=outcome.value,
        )
        if self.status is PaymentStatus.PENDING and self.due_vnd == 0:
            self.trigger_event(self.Paid, timestamp=at)
        return CreditApplied(outcome, applied, excess)

    def has_credit(self, bank_bin: str, account_no: str, bank_tx_id: str) -> bool:
        return f"{bank_bin}/{account_no}/{bank_tx_id}" in self.credits

    def on_time(self, at: datetime, booked_at: datetime, accepted_delay: timedelta) -> bool:
        """Whether a credit booked at ``booked_at`` and notified at ``at`` is in time."""
        return min(booked_at, at) < self.expires_at and at < self.expires_at + accepted_delay

    def expire(self, at: datetime, accepted_delay: timedelta = timedelta(0)) -> None:
        """Expire an unpaid payment once no credit booked in time can still arrive."""
        if self.status is not PaymentStatus.PENDING:
            raise InvalidTransition(f"payment is {self.status}, not pending")
        if at < self.expires_at + accepted_delay:
            raise InvalidTransition("the payment has not expired yet (or a credit booked in time may still arrive)")
        self.trigger_event(self.Expired, timestamp=at)

    def cancel(self, reason: str, at: datetime) -> None:
        if self.status is not PaymentStatus.PENDING:
            raise InvalidTransition(f"payment is {self.status}, not pending")
        if self.paid_vnd:
            raise InvalidTransition("a partly paid payment cannot be cancelled; refund it instead")
        self.trigger_event(self.Cancelled, timestamp=at, reason=reason)


class BankCredit(Aggregate):
    """A bank's notice that money arrived, once per (bank BIN, account, transaction id);
    later notices of the same identity with another amount are kept as conflicts."""

    class Received(Aggregate.Created):
        class_version = 2
        bank_bin: str
        account_no: str
        bank_tx_id: str
        amount_vnd: int
        note: str
        booked_at: datetime
        payment_reference: str | None
        outcome: str
        counterparty: dict[str, str] | None  # `Counterparty.recorded`; None before v2 and when unknown

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["counterparty"] = None

    class ConflictingNoticeReceived(Aggregate.Event):
        """The bank notified this transaction again with another amount."""

        number: int  # 1 for the first conflict of this credit, and so on
        amount_vnd: int
        note: str
        booked_at: datetime

        def apply(self, aggregate: BankCredit) -> None:
            aggregate.conflicting_amounts.append(self.amount_vnd)

    def __init__(
        self,
        bank_bin: str,
        account_no: str,
        bank_tx_id: str,
        amount_vnd: int,
        note: str,
        booked_at: datetime,
        payment_reference: str | None,
        outcome: str,
        counterparty: dict[str, str] | None,
    ) -> None:
        self.counterparty = None if counterparty is None else Counterparty(**counterparty)
        self.bank_bin = bank_bin
        self.account_no = account_no
        self.bank_tx_id = bank_tx_id
        self.amount_vnd = amount_vnd
        self.note = note
        self.booked_at = booked_at
        self.payment_reference = payment_reference
        self.outcome = CreditOutcome(outcome)
        self.conflicting_amounts: list[int] = []

    def receive_again(self, amount_vnd: int, note: str, booked_at: datetime, at: datetime) -> int | None:
        """A later notice of this credit: None when it repeats one already recorded (the
        same amount: a duplicate); otherwise it is recorded and its conflict number returned."""
        if checked_vnd(amount_vnd) in (self.amount_vnd, *self.conflicting_amounts):
            return None
        number = len(self.conflicting_amounts) + 1
        self.trigger_event(
            self.ConflictingNoticeReceived,
            timestamp=at,
            number=number,
            amount_vnd=amount_vnd,
            note=note[:500],
            booked_at=booked_at,
        )
        return number

    @classmethod
    def receive(
        cls,
        *,
        bank_bin: str,
        account_no: str,
        bank_tx_id: str,
        amount_vnd: int,
        note: str,
        booked_at: datetime,
        payment_reference: str | None,
        outcome: CreditOutcome,
        at: datetime,
        counterparty: Counterparty | None = None,
    ) -> BankCredit:
        if not bank_tx_id or len(bank_tx_id) > 64:
            raise InvalidValue("bank_tx_id must be 1-64 characters")
        if payment_reference is not None and not valid_reference(payment_reference):
            raise InvalidValue(f"{payment_reference!r} is not a payment reference")
        return cls._create(
            cls.Received,
            id=bank_credit_id(bank_bin, account_no, bank_tx_id),
            timestamp=at,
            bank_bin=bank_bin,
            account_no=account_no,
            bank_tx_id=bank_tx_id,
            amount_vnd=checked_vnd(amount_vnd),
            note=note[:500],
            booked_at=booked_at,
            payment_reference=payment_reference,
            outcome=outcome.value,
            counterparty=None if counterparty is None else counterparty.recorded(),
        )
