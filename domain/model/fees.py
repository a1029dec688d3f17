"""Administrative fees at one-stop counters: the catalogue and fee invoices.

`FeeInvoice` invariants:
- ``amount_vnd = subsidy_vnd + payer_due_vnd``, all fixed at issue from the catalogue
  entry and the subsidy rule that applied (its legal basis is recorded with it);
- lifecycle: issued → paid → refunded, or issued → cancelled; an invoice the budget
  covers entirely (payer due 0) is paid the moment it is issued, and is reversed by
  cancelling it (paid → cancelled): there is no payer's money to refund;
- the payer's part is asked for by one payment at a time: a new one is requested only
  when the last lapsed or was cancelled unpaid (the use case checks the payment); the
  first of the invoice's payments to complete pays it, any other is owed back; a refund
  never exceeds what the payer paid;
- a refund gives back the budget's share in the same proportion as the payer's
  (``subsidy_returned_vnd = subsidy_vnd * refunded_vnd // payer_due_vnd``, rounded down,
  by less than one đồng), so a full refund, like a cancellation, leaves the agency
  nothing of the fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from domain.model.money import checked_vnd

INVOICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/fee-invoice")


@dataclass(frozen=True, slots=True)
class SubsidyRule:
    """The budget pays ``percent`` of the fee when the citizen applies through ``channel``
    (e.g. 100 % for applications made in the national e-ID app)."""

    channel: str
    percent: int
    budget_id: str
    legal_basis: str

    def __post_init__(self) -> None:
        if not 0 < self.percent <= 100:
            raise InvalidValue("a subsidy covers 1-100 percent of a fee")


@dataclass(frozen=True, slots=True)
class FeeService:
    service_code: str
    name: str
    agency_id: str
    amount_vnd: int
    legal_basis: str
    subsidies: tuple[SubsidyRule, ...] = ()

    def __post_init__(self) -> None:
        checked_vnd(self.amount_vnd, name=f"{self.service_code} amount_vnd")

    def subsidy_for(self, channel: str) -> SubsidyRule | None:
        return next((s for s in self.subsidies if s.channel == channel), None)


class FeeCatalogue:
    """The fee schedule, as data (loaded from the agencies' published decisions)."""

    def __init__(self, services: Iterable[FeeService]) -> None:
        self._services = {s.service_code: s for s in services}

    def __getitem__(self, service_code: str) -> FeeService:
        try:
            return self._services[service_code]
        except KeyError:
            raise NotFound(f"no fee service with code {service_code!r}") from None

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, Any]]) -> FeeCatalogue:
        return cls(
            FeeService(
                service_code=r["service_code"],
                name=r["name"],
                agency_id=r["agency_id"],
                amount_vnd=r["amount_vnd"],
                legal_basis=r["legal_basis"],
                subsidies=tuple(SubsidyRule(**s) for s in r.get("subsidies", ())),
            )
            for r in rows
        )


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


def invoice_id(invoice_no: str) -> UUID:
    return uuid5(INVOICE_NAMESPACE, invoice_no)


class FeeInvoice(Aggregate):
    """A fee owed by a payer for one administrative service (see module docstring)."""

    class Issued(Aggregate.Created):
        invoice_no: str
        payer_id: str
        service_code: str
        agency_id: str
        amount_vnd: int
        subsidy_vnd: int
        payer_due_vnd: int
        budget_id: str | None
        legal_basis: str

    class PaymentRequested(Aggregate.Event):
        payment_reference: str

        def apply(self, aggregate: FeeInvoice) -> None:
            aggregate.payment_reference = self.payment_reference
            aggregate.payment_references.append(self.payment_reference)

    class Paid(Aggregate.Event):
        payment_reference: str | None

        def apply(self, aggregate: FeeInvoice) -> None:
            aggregate.status = InvoiceStatus.PAID

    class Cancelled(Aggregate.Event):
        reason: str

        def apply(self, aggregate: FeeInvoice) -> None:
            aggregate.status = InvoiceStatus.CANCELLED
            # Cancelling has always given the budget its whole share back.
            aggregate.subsidy_returned_vnd = aggregate.subsidy_vnd

    class Refunded(Aggregate.Event):
        """``amount_vnd`` goes back to the payer, ``subsidy_returned_vnd`` to the budget."""

        class_version = 2
        amount_vnd: int
        reason: str
        subsidy_returned_vnd: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Refunds recorded before version 2 gave the payer's money back and nothing else.
            state["subsidy_returned_vnd"] = 0

        def apply(self, aggregate: FeeInvoice) -> None:
            aggregate.status = InvoiceStatus.REFUNDED
            aggregate.refunded_vnd = self.amount_vnd
            aggregate.subsidy_returned_vnd = self.subsidy_returned_vnd

    def __init__(
        self,
        invoice_no: str,
        payer_id: str,
        service_code: str,
        agency_id: str,
        amount_vnd: int,
        subsidy_vnd: int,
        payer_due_vnd: int,
        budget_id: str | None,
        legal_basis: str,
    ) -> None:
        self.invoice_no = invoice_no
        self.payer_id = payer_id
        self.service_code = service_code
        self.agency_id = agency_id
        self.amount_vnd = amount_vnd
        self.subsidy_vnd = subsidy_vnd
        self.payer_due_vnd = payer_due_vnd
        self.budget_id = budget_id
        self.legal_basis = legal_basis
        self.status = InvoiceStatus.ISSUED
        self.payment_reference: str | None = None  # the payment asked for last
        self.payment_references: list[str] = []  # every payment asked for, oldest first
        self.refunded_vnd = 0
        self.subsidy_returned_vnd = 0

    @classmethod
    def issue(cls, *, invoice_no: str, payer_id: str, service: FeeService, channel: str, at: datetime) -> FeeInvoice:
        if not invoice_no or len(invoice_no) > 40:
            raise InvalidValue("invoice_no must be 1-40 characters")
        if not payer_id:
            raise InvalidValue("payer_id is required")
        rule = service.subsidy_for(channel)
        subsidy = service.amount_vnd * rule.percent // 100 if rule else 0
        invoice = cls._create(
            cls.Issued,
            id=invoice_id(invoice_no),
            timestamp=at,
            invoice_no=invoice_no,
            payer_id=payer_id,
            service_code=service.service_code,
            agency_id=service.agency_id,
            amount_vnd=service.amount_vnd,
            subsidy_vnd=subsidy,
            payer_due_vnd=service.amount_vnd - subsidy,
            budget_id=rule.budget_id if rule else None,
            legal_basis=service.legal_basis + (f"; {rule.legal_basis}" if rule else ""),
        )
        if invoice.payer_due_vnd == 0:
            invoice.trigger_event(cls.Paid, timestamp=at, payment_reference=None)
        return invoice

    def request_payment(self, payment_reference: str, at: datetime) -> None:
        self._require(InvoiceStatus.ISSUED)
        if self.payer_due_vnd == 0:
            raise InvalidTransition("the budget covers this fee; there is nothing for the payer to pay")
        if payment_reference in self.payment_references:
            raise InvalidTransition(f"payment {payment_reference} was already requested for this invoice")
        self.trigger_event(self.PaymentRequested, timestamp=at, payment_reference=payment_reference)

    def mark_paid(self, payment_reference: str, at: datetime) -> None:
        self._require(InvoiceStatus.ISSUED)
        if payment_reference not in self.payment_references:
            raise InvalidTransition(f"payment {payment_reference} was not requested for this invoice")
        self.trigger_event(self.Paid, timestamp=at, payment_reference=payment_reference)

    def cancel(self, reason: str, at: datetime) -> None:
        """Cancel an invoice not paid yet, or one the budget paid in full (issued by mistake)."""
        budget_paid_all = self.status is InvoiceStatus.PAID and self.payer_due_vnd == 0
        if self.status is not InvoiceStatus.ISSUED and not budget_paid_all:
            raise InvalidTransition(
                f"invoice {self.invoice_no} is {self.status}; only an unpaid invoice or one the budget "
                "paid in full can be cancelled (refund one the payer paid)"
            )
        self.trigger_event(self.Cancelled, timestamp=at, reason=reason)

    def refund(self, amount_vnd: int, reason: str, at: datetime) -> int:
        """Refund ``amount_vnd`` of what the payer paid; returns the budget's share given back with it."""
        self._require(InvoiceStatus.PAID)
        if self.payer_due_vnd == 0:
            raise InvalidTransition(
                f"the budget paid invoice {self.invoice_no} in full; cancel it to give the budget its share back"
            )
        if not 0 < checked_vnd(amount_vnd) <= self.payer_due_vnd:
            raise InvalidValue(f"can refund 1..{self.payer_due_vnd} VND the payer paid, not {amount_vnd}")
        subsidy_returned_vnd = self.subsidy_vnd * amount_vnd // self.payer_due_vnd
        self.trigger_event(
            self.Refunded,
            timestamp=at,
            amount_vnd=amount_vnd,
            reason=reason,
            subsidy_returned_vnd=subsidy_returned_vnd,
        )
        return subsidy_returned_vnd

    def _require(self, status: InvoiceStatus) -> None:
        if self.status is not status:
            raise InvalidTransition(f"invoice {self.invoice_no} is {self.status}, not {status}")
