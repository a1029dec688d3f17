"""Reconciliation runs as events: what was compared, what was found, how it was resolved.

`ReconciliationRun` invariants:
- its id is derived from its inputs (statement identities, period, the ledger position it
  read up to, the matching options), so recording the same run twice writes nothing new;
- it records every exception with both sides as they were at the time, so an auditor can
  replay the decision without the statement file;
- each open exception is resolved at most once, by a named finance user with a reason,
  with a resolution its category allows; settled cases (both sides already agree) need
  no resolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue, NotFound
from settlement.reconciliation.case_keys import case_key
from settlement.reconciliation.outcomes import Category, Reconciliation

RUN_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/reconciliation-run")


class Resolution(StrEnum):
    WRITE_OFF = "write_off"  # book the difference: bank charges out, unexplained money to suspense
    REFUND = "refund"  # unexplained money in is owed back to whoever sent it
    MANUAL_MATCH = "manual_match"  # finance pairs the two sides; amounts must agree
    ACKNOWLEDGE = "acknowledge"  # nothing to book (a duplicate notice, a reversal the bank made)


ALLOWED: dict[Category, frozenset[Resolution]] = {
    Category.MISSING_IN_LEDGER: frozenset({Resolution.WRITE_OFF, Resolution.REFUND, Resolution.MANUAL_MATCH}),
    Category.MISSING_IN_BANK: frozenset({Resolution.WRITE_OFF, Resolution.MANUAL_MATCH, Resolution.ACKNOWLEDGE}),
    Category.AMOUNT_MISMATCH: frozenset({Resolution.WRITE_OFF, Resolution.REFUND}),
    Category.DUPLICATE: frozenset({Resolution.ACKNOWLEDGE, Resolution.REFUND}),
    Category.REVERSED: frozenset({Resolution.ACKNOWLEDGE, Resolution.WRITE_OFF}),
}


def run_id(statements: Sequence[str], first: date, last: date, ledger_position: int, options: str) -> UUID:
    key = "|".join([*sorted(statements), first.isoformat(), last.isoformat(), str(ledger_position), options])
    return uuid5(RUN_NAMESPACE, key)


def run_id_of(result: Reconciliation, identities: Sequence[str], first: date, last: date, ledger_position: int) -> UUID:
    """The id a run of this result is recorded under (see `run_id`)."""
    return run_id(identities, first, last, ledger_position, repr(result.options))


def _line(result: Reconciliation, line: int, identities: Sequence[str]) -> dict[str, Any]:
    entry = result.entries[line]
    statement, index = result.line_position(line)
    return {
        "statement": identities[statement],
        "entry": index,
        "account": result.statements[statement].account,
        "direction": entry.direction.value,
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "booking_date": entry.booking_date.isoformat() if entry.booking_date else None,
        "bank_ref": entry.acct_svcr_ref or entry.entry_ref,
    }


def _item(result: Reconciliation, item: int) -> dict[str, Any]:
    it = result.items[item]
    return {
        "item_id": it.item_id,
        "account": it.account,
        "direction": it.direction.value,
        "amount_minor": it.amount_minor,
        "currency": it.currency,
        "booking_date": it.booking_date.isoformat(),
        "payment_reference": it.payment_reference,
    }


def exception_records(result: Reconciliation, identities: Sequence[str]) -> list[dict[str, Any]]:
    """Every case, numbered from 1 in the engine's (deterministic) order, with both sides."""
    return [
        {
            "case": number,
            "category": case.category.value,
            "reason": case.reason,
            "settled": case.settled,
            "resolution": case.resolution,
            "lines": [_line(result, line, identities) for line in case.lines],
            "items": [_item(result, item) for item in case.items],
        }
        for number, case in enumerate(result.cases, start=1)
    ]


def exception_key(exception: Mapping[str, Any]) -> str:
    """The case's lasting name (`settlement.reconciliation.case_keys`), from its record in a run."""
    return case_key(
        (f"{line['statement']}#{line['entry']}" for line in exception["lines"]),
        (str(item["item_id"]) for item in exception["items"]),
    )


def _totals(result: Reconciliation) -> dict[str, Any]:
    return {
        c.value: {"lines": t.lines, "items": t.items, "line_sums": t.line_sums, "item_sums": t.item_sums}
        for c, t in result.totals().items()
    }


class ReconciliationRun(Aggregate):
    class Recorded(Aggregate.Created):
        statements: list[str]
        first_day: str
        last_day: str
        ledger_position: int
        reconciled: bool
        totals: dict[str, Any]
        balance_checks: list[dict[str, Any]]
        exceptions: list[dict[str, Any]]
        ledger_accounts: dict[str, str]

    class ExceptionResolved(Aggregate.Event):
        """``value_date`` is the day the resolution is booked on (the exception's own day,
        so rerunning that day shows the case resolved); the event's timestamp is when it was
        decided. ``case_key`` names the case's lines and items (`settlement.reconciliation.case_keys`)."""

        class_version = 2
        case: int
        resolution: str
        reason: str
        resolved_by: str
        transfer_cause: str | None
        value_date: str | None
        case_key: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 booked on the day of the decision and only a transfer named the case.
            state["value_date"] = None
            state["case_key"] = state["transfer_cause"]

        def apply(self, aggregate: ReconciliationRun) -> None:
            aggregate.resolutions[self.case] = self.resolution
            aggregate.decisions[self.case] = {
                "resolution": self.resolution,
                "reason": self.reason,
                "resolved_by": self.resolved_by,
                "resolved_at": self.timestamp.isoformat(),
                "transfer": self.transfer_cause,
                "value_date": self.value_date,
            }

    def __init__(
        self,
        statements: list[str],
        first_day: str,
        last_day: str,
        ledger_position: int,
        reconciled: bool,
        totals: dict[str, Any],
        balance_checks: list[dict[str, Any]],
        exceptions: list[dict[str, Any]],
        ledger_accounts: dict[str, str],
    ) -> None:
        self.statements = statements
        self.first_day = date.fromisoformat(first_day)
        self.last_day = date.fromisoformat(last_day)
        self.ledger_position = ledger_position
        self.reconciled = reconciled
        self.totals = totals
        self.balance_checks = balance_checks
        self.exceptions = {e["case"]: e for e in exceptions}
        self.ledger_accounts = ledger_accounts  # statement account number -> our bank-clearing account
        self.resolutions: dict[int, str] = {}
        self.decisions: dict[int, dict[str, Any]] = {}  # case -> who decided what, why and when

    @classmethod
    def record(
        cls,
        result: Reconciliation,
        *,
        identities: Sequence[str],
        first_day: date,
        last_day: date,
        ledger_position: int,
        ledger_accounts: dict[str, str],
        at: datetime,
    ) -> ReconciliationRun:
        if len(identities) != len(result.statements):
            raise InvalidValue("one identity per reconciled statement is needed")
        return cls._create(
            cls.Recorded,
            id=run_id_of(result, identities, first_day, last_day, ledger_position),
            timestamp=at,
            statements=list(identities),
            first_day=first_day.isoformat(),
            last_day=last_day.isoformat(),
            ledger_position=ledger_position,
            reconciled=result.reconciled,
            totals=_totals(result),
            balance_checks=[
                {"statement_id": b.statement_id, "account": b.account, "check": b.check, "ok": b.ok, "note": b.note}
                for b in result.balance_checks
            ],
            exceptions=exception_records(result, identities),
            ledger_accounts=dict(sorted(ledger_accounts.items())),
        )

    @property
    def open_cases(self) -> list[int]:
        return [n for n, e in self.exceptions.items() if not e["settled"] and n not in self.resolutions]

    def exception(self, case: int) -> dict[str, Any]:
        try:
            return self.exceptions[case]
        except KeyError:
            raise NotFound(f"run {self.id} has no exception {case}") from None

    def require_open(self, case: int) -> dict[str, Any]:
        """The exception, when it still awaits a decision."""
        exception = self.exception(case)
        if case in self.resolutions:
            raise InvalidTransition(f"exception {case} is already resolved ({self.resolutions[case]})")
        if exception.get("resolution"):
            raise InvalidTransition(f"exception {case} is already resolved: {exception['resolution']}")
        if exception["settled"]:
            raise InvalidTransition(f"exception {case} is settled: both sides already agree")
        return exception

    def resolve(
        self,
        case: int,
        resolution: Resolution,
        reason: str,
        resolved_by: str,
        transfer_cause: str | None,
        at: datetime,
    ) -> None:
        exception = self.require_open(case)
        if resolution not in ALLOWED[Category(exception["category"])]:
            raise InvalidValue(f"a {exception['category']} exception cannot be resolved by {resolution.value}")
        if not reason.strip() or not resolved_by.strip():
            raise InvalidValue("a resolution needs a reason and the finance user's name")
        self.trigger_event(
            self.ExceptionResolved,
            timestamp=at,
            case=case,
            resolution=resolution.value,
            reason=reason,
            resolved_by=resolved_by,
            transfer_cause=transfer_cause,
            value_date=self.value_date_of(case).isoformat(),
            case_key=exception_key(exception),
        )

    def value_date_of(self, case: int) -> date:
        """The day a resolution of the case is booked on: the bank's booking date of its
        lines, else the ledger's of its items, within the run's period."""
        exception = self.exception(case)
        dates = [line["booking_date"] for line in exception["lines"] if line["booking_date"]]
        dates = dates or [item["booking_date"] for item in exception["items"]]
        day = date.fromisoformat(min(dates)) if dates else self.first_day
        return min(max(day, self.first_day), self.last_day)
