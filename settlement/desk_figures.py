"""What the finance desk (``/finance``) reads, all from the live projections and the
aggregates themselves: a day's settlement batches, the cashless share of each parking
lot, the latest reconciliation runs and the last 30 days' series for the charts.

Bounds: a day's batches are found by their derived ids (`settlement.payouts.batches.batch_id`)
for every payee the payables projection has seen; the runs are the latest
`RECENT_RUNS_MAX` in the run index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from domain.ports import EventStore, ProjectionStore
from domain.services.parking_projections import CashlessShare, cashless_share_bps, share_key
from domain.services.unit_of_work import UnitOfWork
from settlement.collections import known_lots
from settlement.payouts.batches import MAX_BATCHES_PER_DAY, SettlementBatch, batch_id
from settlement.payouts.payables import PAYEES_KEY, PayablePostings
from settlement.payouts.payout_files import BatchPayoutFile, payout_file_id
from settlement.reconciliation.outcomes import Category
from settlement.reconciliation.run_index import COUNT_KEY, run_key
from settlement.reconciliation.run_index import NAME as RUN_INDEX
from settlement.reconciliation.runs import ReconciliationRun

RECENT_RUNS_MAX = 200
CHART_DAYS = 30


def last_days(day: date, count: int = CHART_DAYS) -> list[date]:
    """``count`` days up to and including ``day``, oldest first."""
    return [day - timedelta(days=n) for n in range(count - 1, -1, -1)]


async def day_batches(store: EventStore, rows: ProjectionStore, day: date) -> list[dict[str, Any]]:
    """Every settlement batch of business day ``day`` (views, with ``has_file``: whether
    its pain.001 was issued here, so it can be downloaded)."""
    payees: Any = (await rows.get_rows(PayablePostings.name, [PAYEES_KEY])).get(PAYEES_KEY) or []
    uow = UnitOfWork(store)
    found = []
    for payee in payees:
        for sequence in range(1, MAX_BATCHES_PER_DAY + 1):
            batch = await uow.find(SettlementBatch, batch_id(str(payee), day, sequence))
            if batch is None:
                break
            files = await uow.find(BatchPayoutFile, payout_file_id(batch.id))
            found.append({**batch.view(), "has_file": files is not None})
    return found


@dataclass(frozen=True, slots=True)
class LotShare:
    code: str
    cash_count: int
    cash_vnd: int
    cashless_count: int
    cashless_vnd: int

    @property
    def count_bps(self) -> int:
        return cashless_share_bps(self.row)[0]

    @property
    def vnd_bps(self) -> int:
        return cashless_share_bps(self.row)[1]

    @property
    def row(self) -> dict[str, int]:
        return {
            "cash_count": self.cash_count,
            "cash_vnd": self.cash_vnd,
            "cashless_count": self.cashless_count,
            "cashless_vnd": self.cashless_vnd,
        }


def _share(code: str, row: Any) -> LotShare:
    row = row or {}
    return LotShare(
        code, row.get("cash_count", 0), row.get("cash_vnd", 0), row.get("cashless_count", 0), row.get("cashless_vnd", 0)
    )


async def lot_shares(rows: ProjectionStore, days: Sequence[date]) -> dict[date, list[LotShare]]:
    """Each lot's paid sessions by cash and cashless on each of ``days``, lots by code."""
    lots = await known_lots(rows)
    keys = [share_key(UUID(lot), day.isoformat()) for day in days for lot in lots]
    found = await rows.get_rows(CashlessShare.name, keys) if keys else {}
    ordered = sorted(lots.items(), key=lambda item: item[1])
    return {
        day: [_share(code, found.get(share_key(UUID(lot), day.isoformat()))) for lot, code in ordered] for day in days
    }


def all_lots(shares: Sequence[LotShare]) -> LotShare:
    """The lots' shares added up (the city's figure: paid sessions at every lot)."""
    return LotShare(
        "",
        sum(s.cash_count for s in shares),
        sum(s.cash_vnd for s in shares),
        sum(s.cashless_count for s in shares),
        sum(s.cashless_vnd for s in shares),
    )


@dataclass(frozen=True, slots=True)
class RunSummary:
    id: str
    recorded_at: str
    first_day: date
    last_day: date
    reconciled: bool
    matched_lines: int
    exceptions: int
    open_exceptions: int


async def recent_runs(store: EventStore, rows: ProjectionStore, limit: int = RECENT_RUNS_MAX) -> list[RunSummary]:
    """The latest ``limit`` runs recorded, newest first, as they are now."""
    counted: Any = (await rows.get_rows(RUN_INDEX, [COUNT_KEY])).get(COUNT_KEY) or 0
    count = int(counted)
    keys = [run_key(n) for n in range(count, max(count - limit, 0), -1)]
    listed: Any = await rows.get_rows(RUN_INDEX, keys) if keys else {}
    uow = UnitOfWork(store)
    await uow.prefetch(ReconciliationRun, [UUID(listed[k]["id"]) for k in keys if k in listed])
    summaries = []
    for key in keys:
        if key not in listed:
            continue
        run = await uow.get(ReconciliationRun, UUID(listed[key]["id"]))
        summaries.append(
            RunSummary(
                id=str(run.id),
                recorded_at=listed[key]["recorded_at"],
                first_day=run.first_day,
                last_day=run.last_day,
                reconciled=run.reconciled,
                matched_lines=int(run.totals.get(Category.MATCHED.value, {}).get("lines", 0)),
                exceptions=len(run.exceptions),
                open_exceptions=len(run.open_cases),
            )
        )
    return summaries


def latest_run_per_day(runs: Sequence[RunSummary]) -> dict[date, RunSummary]:
    """For each day, the latest run that reconciled it (runs newest first, by last day)."""
    latest: dict[date, RunSummary] = {}
    for run in runs:
        latest.setdefault(run.last_day, run)
    return latest
