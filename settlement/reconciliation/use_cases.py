"""Use cases of reconciliation runs: record a run's findings, resolve an exception."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.model.errors import InvalidTransition
from domain.model.transfers import Transfer, transfer_id
from domain.services.unit_of_work import UnitOfWork, UseCase
from settlement.reconciliation.outcomes import Reconciliation
from settlement.reconciliation.resolutions import resolution_entries
from settlement.reconciliation.runs import ReconciliationRun, Resolution, exception_key, run_id_of


def run_view(run: ReconciliationRun) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "statements": run.statements,
        "first_day": run.first_day.isoformat(),
        "last_day": run.last_day.isoformat(),
        "ledger_position": run.ledger_position,
        "reconciled": run.reconciled,
        "exceptions": len(run.exceptions),
        "open_exceptions": run.open_cases,
        "resolutions": {str(k): v for k, v in sorted(run.resolutions.items())},
    }


def resolution_cause(exception: Mapping[str, Any]) -> str:
    """Named after the statement lines and ledger items themselves, not the run, so the
    same difference can be booked once however many runs report it."""
    return exception_key(exception)


def record_reconciliation(
    result: Reconciliation,
    *,
    identities: Sequence[str],
    first_day: date,
    last_day: date,
    ledger_position: int,
    ledger_accounts: Mapping[str, str],
    at: datetime,
) -> UseCase:
    """Idempotent: the same inputs name the same run, which is returned as it is."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        identifier = run_id_of(result, identities, first_day, last_day, ledger_position)
        existing = await uow.find(ReconciliationRun, identifier)
        if existing is not None:
            return run_view(existing)
        run = ReconciliationRun.record(
            result,
            identities=identities,
            first_day=first_day,
            last_day=last_day,
            ledger_position=ledger_position,
            ledger_accounts=dict(ledger_accounts),
            at=at,
        )
        uow.add(run)
        return run_view(run)

    return use_case


def resolve_exception(
    run_identifier: UUID,
    case: int,
    resolution: Resolution,
    *,
    reason: str,
    resolved_by: str,
    at: datetime,
    known_accounts: Mapping[str, str] | None = None,
) -> UseCase:
    """Record the decision and post what it books, in one write."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        run = await uow.get(ReconciliationRun, run_identifier)
        exception = run.require_open(case)
        entries = resolution_entries(exception, resolution, {**run.ledger_accounts, **(known_accounts or {})})
        cause = resolution_cause(exception) if entries else None
        if cause is not None and await uow.find(Transfer, transfer_id(cause)) is not None:
            # The same lines and items came back in a later run: they were booked already.
            raise InvalidTransition(f"these statement lines and ledger items were already resolved ({cause})")
        run.resolve(case, resolution, reason, resolved_by, cause, at)
        if cause is not None:
            uow.add(Transfer.post(cause, f"reconciliation.{resolution.value}", entries, at))
        resolved = {
            "case": case,
            "resolution": resolution.value,
            "transfer": cause,
            "value_date": run.value_date_of(case).isoformat(),
            "resolved_at": at.isoformat(),
        }
        return {**run_view(run), "resolved": resolved}

    return use_case


def paid_out_batches(
    result: Reconciliation, payout_batches: Mapping[str, str], identities: Sequence[str]
) -> dict[UUID, str]:
    """Settlement batches whose payout item was matched to a statement line, with that
    line's lasting name (``<statement identity>#<entry index>``)."""
    wanted = {
        i: UUID(payout_batches[item.end_to_end_id])
        for i, item in enumerate(result.items)
        if item.end_to_end_id is not None and item.end_to_end_id in payout_batches
    }
    found: dict[UUID, str] = {}
    if not wanted:
        return found
    for match in result.matches():
        for item in match.items:
            if item in wanted:
                statement, entry = result.line_position(match.lines[0])
                found[wanted[item]] = f"{identities[statement]}#{entry}"
    return found
