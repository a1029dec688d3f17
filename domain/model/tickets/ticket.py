"""The `Ticket` aggregate: one bought e-ticket, from purchase to its end.

Lifecycle (``Validated`` repeats, once per ride)::

    awaiting_payment --Paid--> issued --Activated--> active --Validated--> active
           |                     |                     |
           +--Expired            +--Expired|Refunded   +--Expired|Refunded

Invariants:
- the product's terms are copied into `Issued`, so a later catalogue change never
  alters a sold ticket and replaying its events needs no catalogue;
- a ticket is paid exactly once, with exactly its price, before it can be activated;
  the same payment confirmed again changes nothing;
- rides are accepted only in ``[activated_at, valid_until)``; a single ride is
  validated at most once; no two rides on the same vehicle are less than the
  product's passback minutes apart, whatever order they arrive in
  (`domain.model.tickets.passback`);
- expired and refunded are final; a refund happens at most once and returns at most
  what was paid (`Product.refund_vnd` has the rule); expiry happens only once its
  deadline (``pay_by``, ``activate_by`` or ``valid_until``) has passed;
- expiry is computed, not waited for: once its deadline has passed a live ticket *is*
  expired (`status_at`), from its recorded terms alone, so every reader at the same
  instant sees the same status and no background job has to record it; a ride or an
  activation after the deadline is refused (``validity_ended``, saying it expired), and
  so is a refund;
- commands other than rides arrive in time order (``at`` is never before the last
  change); rides may arrive late from offline validators, but never before activation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.money import checked_vnd
from domain.model.tickets.errors import RefusalReason, TicketRefused
from domain.model.tickets.passback import RideTimes, check_passback, with_ride
from domain.model.tickets.products import Concession, Product
from domain.model.tickets.service_day import checked_id, checked_text, checked_time

TICKET_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/ticket")
ORDER_ID_MAX_CHARS = 128
REASON_MAX_CHARS = 200
PAYMENT_REFERENCE_MAX_CHARS = 64
PAY_WITHIN_MAX = timedelta(days=1)


def ticket_id(order_id: str) -> UUID:
    """A ticket's id from the buyer's order id: a retried purchase finds the same ticket."""
    return uuid5(TICKET_NAMESPACE, order_id)


class TicketStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    ISSUED = "issued"
    ACTIVE = "active"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class PaymentMethod(StrEnum):
    WALLET = "wallet"  # paid at purchase from the rider's prepaid balance
    QR = "qr"  # paid later by a dynamic-QR bank transfer


_ENDED = (TicketStatus.EXPIRED, TicketStatus.REFUNDED)
# why a live ticket ends by itself at its deadline (the reason an ``Expired`` event records)
_EXPIRY_DETAIL = {
    "unpaid": "it was not paid in time",
    "not_activated": "it was not activated in time",
    "validity_ended": "its validity ended",
}


class Ticket(Aggregate):
    """A bought e-ticket (module docstring lists the invariants)."""

    class Issued(Aggregate.Created):
        order_id: str
        rider_id: str
        operator_id: str
        product: dict[str, Any]
        payment_method: str
        concession_evidence: str | None
        pay_by: datetime

    class Paid(Aggregate.Event):
        payment_reference: str
        amount_vnd: int
        activate_by: datetime

        def apply(self, aggregate: Ticket) -> None:
            aggregate.status = TicketStatus.ISSUED
            aggregate.payment_reference = self.payment_reference
            aggregate.paid_vnd = self.amount_vnd
            aggregate.activate_by = self.activate_by

    class Activated(Aggregate.Event):
        valid_until: datetime

        def apply(self, aggregate: Ticket) -> None:
            aggregate.status = TicketStatus.ACTIVE
            aggregate.activated_at = self.timestamp
            aggregate.valid_until = self.valid_until

    class Validated(Aggregate.Event):
        """One ride; ``validator_id`` is the device that accepted it (none before v2)."""

        class_version = 2
        vehicle_id: str
        ride_no: int
        validator_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["validator_id"] = None

        def apply(self, aggregate: Ticket) -> None:
            aggregate.rides_taken = self.ride_no
            aggregate.ride_times = with_ride(aggregate.ride_times, self.vehicle_id, self.timestamp)

    class Expired(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Ticket) -> None:
            aggregate.status = TicketStatus.EXPIRED
            aggregate.end_reason = self.reason

    class Refunded(Aggregate.Event):
        amount_vnd: int
        reason: str

        def apply(self, aggregate: Ticket) -> None:
            aggregate.status = TicketStatus.REFUNDED
            aggregate.refunded_vnd = self.amount_vnd
            aggregate.end_reason = self.reason

    def __init__(
        self,
        order_id: str,
        rider_id: str,
        operator_id: str,
        product: dict[str, Any],
        payment_method: str,
        concession_evidence: str | None,
        pay_by: datetime,
    ) -> None:
        self.order_id = order_id
        self.rider_id = rider_id
        self.operator_id = operator_id
        self.product = Product.from_dict(product)
        self.payment_method = PaymentMethod(payment_method)
        self.concession_evidence = concession_evidence
        self.pay_by = pay_by
        self.status = TicketStatus.AWAITING_PAYMENT
        self.payment_reference: str | None = None
        self.paid_vnd = 0
        self.activate_by: datetime | None = None
        self.activated_at: datetime | None = None
        self.valid_until: datetime | None = None
        self.rides_taken = 0
        self.ride_times: RideTimes = {}
        self.refunded_vnd = 0
        self.end_reason: str | None = None

    @classmethod
    def issue(
        cls,
        *,
        order_id: str,
        rider_id: str,
        operator_id: str,
        product: Product,
        payment_method: PaymentMethod,
        at: datetime,
        pay_within: timedelta,
        concession_evidence: str | None = None,
    ) -> Ticket:
        """A new ticket awaiting payment; ``pay_within`` bounds how long it may wait.

        ``concession_evidence`` is the reference of a check made elsewhere (a student
        card number, an e-ID verification id), never the document: events are forever.
        """
        checked_text(order_id, "order_id", ORDER_ID_MAX_CHARS)
        if payment_method not in set(PaymentMethod):
            raise InvalidValue(f"payment_method must be one of {', '.join(PaymentMethod)}")
        checked_time(at)
        if product.concession is Concession.NONE and concession_evidence is not None:
            raise InvalidValue("concession evidence is only for concession products")
        if product.concession is not Concession.NONE:
            checked_id(concession_evidence, name="concession_evidence")
        if not timedelta(0) < pay_within <= PAY_WITHIN_MAX:
            raise InvalidValue(f"pay_within must be positive and at most {PAY_WITHIN_MAX}")
        return cls._create(
            cls.Issued,
            id=ticket_id(order_id),
            timestamp=at,
            order_id=order_id,
            rider_id=checked_id(rider_id, name="rider_id"),
            operator_id=checked_id(operator_id, name="operator_id"),
            product=product.as_dict(),
            payment_method=PaymentMethod(payment_method).value,
            concession_evidence=concession_evidence,
            pay_by=at + pay_within,
        )

    def confirm_payment(self, payment_reference: str, amount_vnd: int, at: datetime) -> bool:
        """Record the payment; ``False`` when this same payment was already recorded."""
        checked_text(payment_reference, "payment_reference", PAYMENT_REFERENCE_MAX_CHARS)
        checked_vnd(amount_vnd)
        if self.payment_reference is not None:
            if payment_reference == self.payment_reference and amount_vnd == self.paid_vnd:
                return False
            raise InvalidTransition(f"ticket {self.id} is already paid by {self.payment_reference}")
        self._require_status(TicketStatus.AWAITING_PAYMENT)
        self._require_in_order(at)
        if amount_vnd != self.product.price_vnd:
            raise InvalidValue(f"ticket costs {self.product.price_vnd} VND, payment brought {amount_vnd}")
        activate_by = at + timedelta(days=self.product.activate_within_days)
        self.trigger_event(
            self.Paid, timestamp=at, payment_reference=payment_reference, amount_vnd=amount_vnd, activate_by=activate_by
        )
        return True

    def activate(self, at: datetime) -> None:
        self._check_activation(at)
        self.trigger_event(self.Activated, timestamp=at, valid_until=self.product.validity.until(at))

    def validate(self, vehicle_id: str, at: datetime, validator_id: str | None = None) -> int:
        """Accept one ride on ``vehicle_id``; a paid ticket not yet active activates now.

        Returns the ride's number. Raises `TicketRefused` (with the reason a validator
        shows) and changes nothing when the ride is refused.
        """
        checked_id(vehicle_id, name="vehicle_id")
        if validator_id is not None:
            checked_id(validator_id, name="validator_id")
        checked_time(at)
        self._check_not_expired(at)
        if self.status is TicketStatus.ISSUED:
            # A fresh activation at ``at`` always admits a ride at ``at``, so checking the
            # activation first keeps "refused means unchanged" without a dry run.
            self.activate(at)
        self._check_ride(vehicle_id, at)
        ride_no = self.rides_taken + 1
        self.trigger_event(
            self.Validated, timestamp=at, vehicle_id=vehicle_id, ride_no=ride_no, validator_id=validator_id
        )
        return ride_no

    def expiry(self) -> tuple[datetime, str] | None:
        """When this ticket ends by itself and why: unpaid at ``pay_by``, not activated at
        ``activate_by``, its validity over at ``valid_until``; ``None`` once it ended."""
        deadlines = {
            TicketStatus.AWAITING_PAYMENT: (self.pay_by, "unpaid"),
            TicketStatus.ISSUED: (self.activate_by, "not_activated"),
            TicketStatus.ACTIVE: (self.valid_until, "validity_ended"),
        }
        if self.status not in deadlines:
            return None
        deadline, reason = deadlines[self.status]
        assert deadline is not None, "every live status has its deadline"
        return deadline, reason

    def status_at(self, at: datetime) -> TicketStatus:
        """The status at ``at``: the recorded one, or expired once its deadline passed."""
        expiry = self.expiry()
        if expiry is not None and at >= expiry[0]:
            return TicketStatus.EXPIRED
        return self.status

    def expire(self, at: datetime) -> None:
        """Record the expiry `status_at` already shows (nothing needs it recorded)."""
        checked_time(at)
        expiry = self.expiry()
        if expiry is None:
            raise InvalidTransition(f"ticket {self.id} has already ended ({self.status})")
        deadline, reason = expiry
        if at < deadline:
            raise InvalidTransition(f"ticket {self.id} is {self.status} until {deadline.isoformat()}")
        self.trigger_event(self.Expired, timestamp=at, reason=reason)

    def refund(self, reason: str, at: datetime) -> int:
        """Refund what the rule allows; returns the amount. Refuses when that is nothing."""
        checked_text(reason, "reason", REASON_MAX_CHARS)
        checked_time(at)
        if self.status not in (TicketStatus.ISSUED, TicketStatus.ACTIVE):
            raise InvalidTransition(f"ticket {self.id} is {self.status}; only a paid, live ticket is refunded")
        self._require_in_order(at)
        deadline = self.activate_by if self.status is TicketStatus.ISSUED else self.valid_until
        assert deadline is not None, "a paid ticket has its deadline"
        if at >= deadline:
            raise InvalidTransition(f"ticket {self.id} ran out at {deadline.isoformat()}; it expires unrefunded")
        amount_vnd = self.product.refund_vnd(self.paid_vnd, self.valid_until, at)
        if amount_vnd == 0:
            raise InvalidTransition(f"ticket {self.id} ({self.product.code}) has nothing left to refund")
        self.trigger_event(self.Refunded, timestamp=at, amount_vnd=amount_vnd, reason=reason)
        return amount_vnd

    def rides_window(self) -> tuple[datetime, datetime] | None:
        """When a ride on this ticket can be accepted at all, from now on: the span a
        signed ticket code states for offline validators (which cannot know whether
        the ticket was refunded meanwhile; the service checks that). An issued ticket
        may still be activated until ``activate_by``, and then runs its validity."""
        if self.status is TicketStatus.ISSUED:
            assert self.activate_by is not None, "an issued ticket is paid"
            return self.modified_on, self.product.validity.until(self.activate_by)
        if self.status is TicketStatus.ACTIVE:
            assert self.activated_at is not None, "an active ticket has its window"
            assert self.valid_until is not None, "an active ticket has its window"
            return self.activated_at, self.valid_until
        return None

    def _check_not_expired(self, at: datetime) -> None:
        expiry = self.expiry()
        if expiry is not None and at >= expiry[0]:
            deadline, reason = expiry
            detail = f"ticket {self.id} expired at {deadline.isoformat()}: {_EXPIRY_DETAIL[reason]}"
            raise TicketRefused(RefusalReason.VALIDITY_ENDED, detail)

    def _check_activation(self, at: datetime) -> None:
        checked_time(at)
        self._check_not_expired(at)
        if self.status is TicketStatus.AWAITING_PAYMENT:
            raise TicketRefused(RefusalReason.NOT_PAID, f"ticket {self.id} is not paid")
        if self.status in _ENDED:
            raise TicketRefused(RefusalReason.ENDED, f"ticket {self.id} is {self.status}")
        self._require_status(TicketStatus.ISSUED)
        if at < self.modified_on:
            raise TicketRefused(RefusalReason.NOT_YET_VALID, f"ticket {self.id} was not paid yet at {at.isoformat()}")
        assert self.activate_by is not None, "an issued ticket is paid"
        if at >= self.activate_by:
            raise TicketRefused(RefusalReason.VALIDITY_ENDED, f"ticket {self.id} had to be activated before then")

    def _check_ride(self, vehicle_id: str, at: datetime) -> None:
        if self.status is TicketStatus.AWAITING_PAYMENT:
            raise TicketRefused(RefusalReason.NOT_PAID, f"ticket {self.id} is not paid")
        if self.status in _ENDED:
            raise TicketRefused(RefusalReason.ENDED, f"ticket {self.id} is {self.status}")
        assert self.activated_at is not None, "an active ticket has its window"
        assert self.valid_until is not None, "an active ticket has its window"
        if at < self.activated_at:
            raise TicketRefused(RefusalReason.NOT_YET_VALID, f"ticket {self.id} is valid from {self.activated_at}")
        if at >= self.valid_until:
            raise TicketRefused(RefusalReason.VALIDITY_ENDED, f"ticket {self.id} was valid until {self.valid_until}")
        rides_max = self.product.rides_max
        if rides_max is not None and self.rides_taken >= rides_max:
            raise TicketRefused(RefusalReason.ALREADY_USED, f"ticket {self.id} allows {rides_max} ride(s)")
        check_passback(self.ride_times, vehicle_id, at, self.product.passback, f"ticket {self.id}")

    def _require_status(self, status: TicketStatus) -> None:
        if self.status is not status:
            raise InvalidTransition(f"ticket {self.id} is {self.status}, not {status}")

    def _require_in_order(self, at: datetime) -> None:
        if at < self.modified_on:
            raise InvalidValue(f"{at.isoformat()} is before the ticket's last change {self.modified_on.isoformat()}")
