"""Reconcile bank statement files against the ledger and record the run: the one use case
behind ``citysettle reconcile`` and ``POST /v1/settlement/statements``.

Reading the ledger, matching and recording are separate steps so the CLI can report
each as it runs; `reconcile_and_record` does all three for callers that need no
progress. The run is recorded with `record_reconciliation` (the same inputs record
nothing new) and the settlement batches whose payout the statement showed are marked
matched in a second write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.ports import EventStore
from domain.services.unit_of_work import UnitOfWork, UseCase, execute
from settlement.payouts.use_cases import match_paid_out_batches
from settlement.reconciliation.bank_movements import read_day_side
from settlement.reconciliation.ledger_side import LedgerSide
from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.outcomes import MatchOptions, Reconciliation
from settlement.reconciliation.use_cases import paid_out_batches, record_reconciliation
from settlement.statements import Statement, StatementError, StatementFile, distinct


def statement_period(statements: Sequence[Statement]) -> tuple[date, date]:
    periods = [p for s in statements if (p := s.dates()) is not None]
    if not periods:
        raise StatementError("the statement has no dates; give --date")
    return min(p[0] for p in periods), max(p[1] for p in periods)


@dataclass(frozen=True, slots=True)
class StatementRun:
    """What a reconciliation of some statement files compared and found."""

    files: tuple[StatementFile, ...]
    first_day: date
    last_day: date
    side: LedgerSide
    result: Reconciliation

    @property
    def identities(self) -> list[str]:
        return [str(imported.identity) for imported in distinct(self.files)]


def statements_of(files: Sequence[StatementFile]) -> list[Statement]:
    """Each distinct statement once (a file given twice counts once)."""
    return [imported.statement for imported in distinct(files)]


def period_of(files: Sequence[StatementFile], day: date | None) -> tuple[date, date]:
    return (day, day) if day else statement_period(statements_of(files))


def match_statements(
    files: Sequence[StatementFile], first: date, last: date, side: LedgerSide, options: MatchOptions
) -> StatementRun:
    identities = [str(imported.identity) for imported in distinct(files)]
    result = reconcile(
        statements_of(files),
        side.items,
        ledger_balances=side.balances,
        options=options,
        resolved=side.resolved,
        identities=identities,
    )
    return StatementRun(tuple(files), first, last, side, result)


async def read_side(store: EventStore, files: Sequence[StatementFile], first: date, last: date) -> LedgerSide:
    """The ledger side of the period, read from the bank movements projection (the day,
    not the history)."""
    accounts = sorted({s.account for s in statements_of(files)})
    return await read_day_side(store, first_day=first, last_day=last, accounts=accounts)


def record_run_use_case(run: StatementRun, at: datetime) -> UseCase:
    """Keep the run's findings as events (the same inputs record nothing new) and mark the
    batches whose payout it showed, in one write."""
    record = record_reconciliation(
        run.result,
        identities=run.identities,
        first_day=run.first_day,
        last_day=run.last_day,
        ledger_position=run.side.last_position,
        ledger_accounts=run.side.ledger_accounts,
        at=at,
    )
    paid_out = paid_out_batches(run.result, run.side.payout_batches, run.identities)

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        recorded = await record(uow)
        if paid_out:
            recorded.update(await match_paid_out_batches(paid_out, at)(uow))
        return recorded

    return use_case


async def record_statement_run(store: EventStore, run: StatementRun, at: datetime) -> dict[str, Any]:
    return (await execute(store, record_run_use_case(run, at))).result


def reconcile_statements(
    store: EventStore,
    files: Sequence[StatementFile],
    *,
    day: date | None,
    options: MatchOptions,
    at: datetime,
    found: list[StatementRun] | None = None,
) -> UseCase:
    """Read the ledger, match and record, as one use case (so a client's Idempotency-Key
    replays it without reading the ledger again). The run is appended to ``found``."""
    first, last = period_of(files, day)

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        side = await read_side(store, files, first, last)
        run = match_statements(files, first, last, side, options)
        if found is not None:
            found.append(run)
        return await record_run_use_case(run, at)(uow)

    return use_case
