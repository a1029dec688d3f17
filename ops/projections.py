"""The read models the service keeps: which projections exist, and their runners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.ports import Projection
from domain.services.balances import LedgerBalances
from domain.services.collection_accounts import CollectionAccounts
from domain.services.ledger_entries import LedgerEntries
from domain.services.memory_projections import InMemoryProjectionStore
from domain.services.parking_projections import CashlessShare, LotOccupancy
from domain.services.projections import ProjectionRunner
from settlement.cash_on_hand import CashOnHand
from settlement.collections import DailyCollections
from settlement.payables import PayablePostings
from settlement.run_index import RunIndex

log = logging.getLogger(__name__)
RESTART_DELAY_S = 5.0
REPLAY_ATTEMPTS = 5


def projections() -> list[Projection]:
    return [
        LedgerBalances(),
        CollectionAccounts(),
        LedgerEntries(),
        LotOccupancy(),
        CashlessShare(),
        PayablePostings(),
        CashOnHand(),
        RunIndex(),
        DailyCollections(),
    ]


async def run_projection(store: Any, projection: Projection, stop: asyncio.Event) -> None:
    """Follow the log for ever; a failing page is logged and retried after a pause
    (its rows and position were not committed, so nothing is half-applied)."""
    runner = ProjectionRunner(store, store, projection)
    while not stop.is_set():
        try:
            await runner.run_forever(stop)
        except Exception:
            log.exception("projection %s failed; retrying in %.0f s", projection.name, RESTART_DELAY_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_DELAY_S)


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    projection: str
    position: int  # the live projection's; the comparison is made there
    rows: int
    differing_keys: tuple[str, ...]
    log_head: int = 0  # the log's last position when the replay ran
    rebuilt_rows: int = 0  # rows the whole log yields

    @property
    def identical(self) -> bool:
        return not self.differing_keys

    @property
    def behind(self) -> int:
        """Events the live projection has not applied yet: what was not compared."""
        return max(self.log_head - self.position, 0)


async def replay(store: Any, projection: Projection) -> ReplayOutcome:
    """Rebuild the projection from the log up to the stored one's position, in memory,
    and compare row by row; then rebuild on to the log's head, so that a live projection
    behind the log (or never built) is reported as behind, not as identical. Retries if a
    live runner moves the stored one meanwhile."""
    for _ in range(REPLAY_ATTEMPTS):
        position = await store.tracking_position(projection.name)
        live = await store.all_rows(projection.name)
        if await store.tracking_position(projection.name) != position:
            continue
        head = (await store.head()).position
        scratch = InMemoryProjectionStore()
        runner = ProjectionRunner(store, scratch, projection)
        await runner.catch_up(until=position)
        rebuilt = await scratch.all_rows(projection.name)
        differing = sorted(k for k in live.keys() | rebuilt.keys() if live.get(k) != rebuilt.get(k))
        if head > position:
            await runner.catch_up(until=head)
            rebuilt = await scratch.all_rows(projection.name)
        return ReplayOutcome(projection.name, position, len(live), tuple(differing), head, len(rebuilt))
    raise RuntimeError(f"projection {projection.name} kept moving during the replay; stop its runner and retry")


def summarise(outcomes: Sequence[ReplayOutcome]) -> dict[str, Any]:
    """``different`` when a row differs, else ``behind`` when a live projection has not
    applied the whole log (the rows it has are compared, the rest cannot be), else
    ``identical``."""
    behind = [o for o in outcomes if o.behind]
    status = "different" if not all(o.identical for o in outcomes) else "behind" if behind else "identical"
    report: dict[str, Any] = {"status": status}
    if behind:
        report["message"] = "; ".join(
            f"{o.projection}: live projection is {o.behind} events behind (at {o.position} of {o.log_head}); "
            f"rebuilt from the log: {o.rebuilt_rows} rows, live: {o.rows}"
            for o in behind
        )
    report["projections"] = [
        {
            "name": o.projection,
            "position": o.position,
            "log_head": o.log_head,
            "behind": o.behind,
            "rows": o.rows,
            "rebuilt_rows": o.rebuilt_rows,
            "identical": o.identical,
            "differing_keys": list(o.differing_keys[:20]),
        }
        for o in outcomes
    ]
    return report
