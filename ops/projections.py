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
from domain.services.ledger_entries import LedgerEntries
from domain.services.memory_projections import InMemoryProjectionStore
from domain.services.parking_projections import CashlessShare, LotOccupancy
from domain.services.projections import ProjectionRunner
from settlement.payables import PayablePostings

log = logging.getLogger(__name__)
RESTART_DELAY_S = 5.0
REPLAY_ATTEMPTS = 5


def projections() -> list[Projection]:
    return [LedgerBalances(), LedgerEntries(), LotOccupancy(), CashlessShare(), PayablePostings()]


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
    position: int
    rows: int
    differing_keys: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return not self.differing_keys


async def replay(store: Any, projection: Projection) -> ReplayOutcome:
    """Rebuild the projection from the log up to the stored one's position, in memory,
    and compare row by row. Retries if a live runner moves the stored one meanwhile."""
    for _ in range(REPLAY_ATTEMPTS):
        position = await store.tracking_position(projection.name)
        live = await store.all_rows(projection.name)
        if await store.tracking_position(projection.name) != position:
            continue
        scratch = InMemoryProjectionStore()
        await ProjectionRunner(store, scratch, projection).catch_up(until=position)
        rebuilt = await scratch.all_rows(projection.name)
        differing = sorted(k for k in live.keys() | rebuilt.keys() if live.get(k) != rebuilt.get(k))
        return ReplayOutcome(projection.name, position, len(live), tuple(differing))
    raise RuntimeError(f"projection {projection.name} kept moving during the replay; stop its runner and retry")


def summarise(outcomes: Sequence[ReplayOutcome]) -> dict[str, Any]:
    return {
        "status": "identical" if all(o.identical for o in outcomes) else "different",
        "projections": [
            {
                "name": o.projection,
                "position": o.position,
                "rows": o.rows,
                "identical": o.identical,
                "differing_keys": list(o.differing_keys[:20]),
            }
            for o in outcomes
        ],
    }
