"""What a bank statement says, independent of its file format (camt.053/054, MT940, CSV).

Invariants every parser keeps:
- amounts are unsigned ``int`` minor units of their own currency (``amount_minor`` +
  ``currency``); the direction is separate (`Direction`), as in ISO 20022's CdtDbtInd;
- a balance's ``amount_minor`` is signed: a debit (overdrawn) balance is negative;
- a reversed entry keeps the direction of its own movement: the reversal of a credit is
  a ``DBIT`` with ``reversal=True`` (camt RvslInd, MT940 mark ``RC``);
- references that say "none" (``NOTPROVIDED``, ``NONREF``) are dropped, never stored.

The records are frozen msgspec Structs rather than dataclasses: a million-entry statement
builds several million of them, and a Struct is built about ten times faster than a frozen
dataclass (whose ``__init__`` goes through ``object.__setattr__`` field by field). They hold
only values and other records, never a cycle, so they are kept out of the cycle collector
(``gc=False``), and they cross process boundaries as msgpack arrays
(`settlement.statements.camt_parallel`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import msgspec


class Direction(StrEnum):
    """As the bank sees the account: CRDT = money in, DBIT = money out."""

    CREDIT = "CRDT"
    DEBIT = "DBIT"

    def sign(self) -> int:
        return 1 if self is Direction.CREDIT else -1


class BalanceRole(StrEnum):
    """What a balance means for this statement, whatever code the format used for it."""

    OPENING = "opening"  # OPBD, PRCD (previous closing = this opening), MT940 :60F:/:60M:
    CLOSING = "closing"  # CLBD, MT940 :62F:/:62M:
    OPENING_AVAILABLE = "opening_available"  # OPAV
    CLOSING_AVAILABLE = "closing_available"  # CLAV, MT940 :64:
    FORWARD_AVAILABLE = "forward_available"  # FWAV, MT940 :65:
    INTERIM = "interim"  # ITBD, ITAV, INFO and proprietary codes


BOOKED = "BOOK"


class _Record(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """Base of the statement records: immutable, compared and hashed by value."""


class Balance(_Record, frozen=True):
    code: str  # ISO 20022 balance type code (MT940 tags are mapped to the same codes)
    role: BalanceRole
    amount_minor: int  # signed: negative when the balance is a debit
    currency: str
    date: date | None


class Charge(_Record, frozen=True):
    amount_minor: int
    currency: str
    direction: Direction | None
    included: bool | None  # ChrgInclInd: already inside the entry's amount
    type_code: str | None


class Charges(_Record, frozen=True):
    total_minor: int | None  # TtlChrgsAndTaxAmt, when the bank gives it
    currency: str | None
    records: tuple[Charge, ...]


class Party(_Record, frozen=True):
    name: str | None
    account: str | None  # IBAN, or the other identifier of the account


class Batch(_Record, frozen=True):
    """NtryDtls/Btch: the entry books a batch of transactions as one amount."""

    message_id: str | None
    payment_info_id: str | None
    count: int | None
    total_minor: int | None
    currency: str | None
    direction: Direction | None


class TxDetail(_Record, frozen=True):
    """One transaction under an entry (TxDtls); a batch entry has several."""

    end_to_end_id: str | None = None
    uetr: str | None = None
    acct_svcr_ref: str | None = None
    tx_id: str | None = None
    instruction_id: str | None = None
    payment_info_id: str | None = None
    message_id: str | None = None
    mandate_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    direction: Direction | None = None
    remittance: str = ""  # unstructured lines and structured references, joined by spaces
    creditor_reference: str | None = None
    counterparty: Party | None = None  # the debtor of a credit, the creditor of a debit
    bank_tx_code: str | None = None
    charges: Charges | None = None
    return_reason: str | None = None
    additional_info: str | None = None


class Entry(_Record, frozen=True):
    """One booked line of a statement (camt Ntry, MT940 :61: with its :86:, a CSV row)."""

    amount_minor: int
    currency: str
    direction: Direction
    reversal: bool = False
    status: str = BOOKED
    booking_date: date | None = None
    value_date: date | None = None
    entry_ref: str | None = None
    acct_svcr_ref: str | None = None  # the bank's own reference of the entry
    bank_tx_code: str | None = None  # "PMNT/RCDT/DMCT", or the proprietary code
    charges: Charges | None = None
    batches: tuple[Batch, ...] = ()
    details: tuple[TxDetail, ...] = ()
    additional_info: str | None = None
    instructed_minor: int | None = None  # AmtDtls/InstdAmt, e.g. in the account currency
    instructed_currency: str | None = None

    @property
    def signed_minor(self) -> int:
        return self.amount_minor if self.direction is Direction.CREDIT else -self.amount_minor

    @property
    def booked(self) -> bool:
        return self.status == BOOKED

    def in_currency(self, currency: str) -> int | None:
        """The signed amount in ``currency``, when the entry states it exactly."""
        if self.currency == currency:
            return self.signed_minor
        if self.instructed_currency == currency and self.instructed_minor is not None:
            return self.instructed_minor * self.direction.sign()
        return None


class Statement(_Record, frozen=True):
    """One statement (camt Stmt/Ntfctn, one MT940 message, one CSV account+statement id)."""

    kind: str  # "camt.053", "camt.054", "mt940", "csv"
    version: str | None  # e.g. "001.08" for camt
    statement_id: str
    account: str  # IBAN or account number, upper case, without spaces
    currency: str | None
    balances: tuple[Balance, ...]
    entries: tuple[Entry, ...]
    sequence: str | None = None  # ElctrncSeqNb, MT940 :28C:
    created_at: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    servicer: str | None = None  # the bank's BIC, when given

    def balance(self, role: BalanceRole) -> Balance | None:
        return next((b for b in self.balances if b.role is role), None)

    def dates(self) -> tuple[date, date] | None:
        """The period the statement covers: FrToDt, else its entries' booking dates."""
        if self.period_from is not None and self.period_to is not None:
            return self.period_from, self.period_to
        booked = [e.booking_date for e in self.entries if e.booking_date is not None]
        if booked:
            return min(booked), max(booked)
        dated = [b.date for b in self.balances if b.date is not None]
        return (min(dated), max(dated)) if dated else None


def normalise_account(text: str) -> str:
    """Account identifiers compare without spaces and case (IBANs are printed in groups)."""
    return "".join(text.split()).upper()


NO_REFERENCE = frozenset({"NOTPROVIDED", "NONREF", "NONE", "N/A"})


def reference_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip()
    return None if not value or value.upper() in NO_REFERENCE else value
