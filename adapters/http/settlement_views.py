"""Bodies and answers of the reconciliation calls (`adapters.http.settlement_runs`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from adapters.http.routing import Answer, Body
from adapters.http.types import Reason

Format = Literal["camt053", "camt054", "mt940", "csv"]
ToleranceDays = Annotated[int, msgspec.Meta(ge=0, le=31, description="date window of amount matching, days")]
StatementNumber = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9 ]{1,34}$", description="as the statement names it")]
LedgerBank = Annotated[
    str, msgspec.Meta(pattern=r"^bank:[0-9]{6}:[A-Za-z0-9]{1,19}$", description="bank:<bin>:<account_no>")
]
ResolutionKind = Literal["write_off", "refund", "manual_match", "acknowledge"]


class StatementBody(Body):
    content: Annotated[bytes, msgspec.Meta(min_length=1, description="the statement file, base64")]
    format: Format | None = None  # detected from the content when omitted
    date: dt.date | None = None  # the ledger day to reconcile; default the statement's period
    tolerance_days: ToleranceDays | None = None


class ResolutionBody(Body):
    resolution: ResolutionKind
    reason: Reason
    # our ledger account of a statement account number neither the run nor a payee names
    accounts: dict[StatementNumber, LedgerBank] = msgspec.field(default_factory=dict)


class RunLinks(Answer):
    self: str
    exceptions: str
    report_json: str
    report_csv: str
    report_html: str


class RunFields(Answer):
    id: str
    statements: list[str]
    first_day: str
    last_day: str
    ledger_position: int
    reconciled: bool
    exceptions: int
    open_exceptions: list[int]
    resolutions: dict[str, ResolutionKind]


class RunAnswer(RunFields):
    links: RunLinks


class CategoryCount(Answer):
    lines: int
    items: int


class StatementRunAnswer(RunAnswer):
    matched_batches: list[str]
    lines: int
    items: int
    categories: dict[str, CategoryCount]


class Resolved(Answer):
    case: int
    resolution: ResolutionKind
    transfer: str | None
    value_date: str
    resolved_at: str


class ResolutionAnswer(RunAnswer):
    resolved: Resolved


class RunListEntry(Answer):
    number: int
    id: str
    recorded_at: str
    first_day: str
    last_day: str
    statements: list[str]
    reconciled: bool
    exceptions: int
    links: RunLinks


class RunsAnswer(Answer):
    runs: list[RunListEntry]
    next_cursor: str | None
    as_of_position: int


class CaseLine(Answer):
    statement: str
    entry: int
    account: str
    direction: str
    amount_minor: int
    currency: str
    booking_date: str | None
    bank_ref: str | None


class CaseItem(Answer):
    item_id: str
    account: str
    direction: str
    amount_minor: int
    currency: str
    booking_date: str
    payment_reference: str | None


class Decision(Answer):
    resolution: ResolutionKind
    reason: str
    resolved_by: str
    resolved_at: str
    transfer: str | None
    value_date: str | None


class CaseAnswer(Answer):
    case: int
    category: str
    reason: str
    settled: bool
    open: bool
    resolution: str | None
    lines: list[CaseLine]
    items: list[CaseItem]
    decision: Decision | None


class ExceptionsAnswer(Answer):
    run_id: str
    cases: list[CaseAnswer]
    next_cursor: str | None


class CategoryTotal(Answer):
    lines: int
    items: int
    line_sums: dict[str, int]
    item_sums: dict[str, int]


class BalanceCheck(Answer):
    statement_id: str
    account: str
    check: str
    ok: bool
    note: str | None


class RunReport(RunFields):
    totals: dict[str, CategoryTotal]
    balance_checks: list[BalanceCheck]
    ledger_accounts: dict[str, str]
    cases: list[CaseAnswer]
