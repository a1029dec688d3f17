"""The read models the service keeps: which projections exist, and their runners."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from domain.ports import JSONValue, LogReader, ReadModel
from domain.services.balances import LedgerBalances
from domain.services.collection_accounts import CollectionAccounts
from domain.services.ledger_entries import LedgerEntries
from domain.services.parking_projections import CashlessShare, LotOccupancy
from domain.services.product_index import ProductIndex
from domain.services.projections import ProjectionRunner
from domain.services.rebuild import Rebuild
from settlement.collections import DailyCollections
from settlement.payouts.cash_on_hand import CashOnHand
from settlement.payouts.payables import PayablePostings
from settlement.reconciliation.bank_movements import BankMovements
from settlement.reconciliation.run_index import RunIndex

log = logging.getLogger(__name__)
RESTART_DELAY_S = 5.0
REPLAY_ATTEMPTS = 5


def projections() -> list[ReadModel]:
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
        BankMovements(),
        ProductIndex(),
    ]


async def run_projection(
    store: Any, projection: ReadModel, stop: asyncio.Event, log_reader: LogReader | None = None
) -> None:
    """Follow the log for ever; a failing page is logged and retried after a pause
    (its rows and position were not committed, so nothing is half-applied). The runners
    of one process share one ``log_reader`` (`SharedLog`): each page read and decoded once."""
    runner = ProjectionRunner(log_reader or store, store, projection)
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


@dataclass(frozen=True, slots=True)
class Replay:
    """What one `replay` found, and how fast it read, decoded and folded the log."""

    outcomes: tuple[ReplayOutcome, ...]
    events: int  # events folded (the log up to its head)
    fold_s: float  # seconds reading, decoding and folding them into every projection
    total_s: float  # the whole replay: the live rows read and compared too

    @property
    def events_per_s(self) -> float:
        return self.events / self.fold_s if self.fold_s > 0 else 0.0


async def replay(
    store: Any, projections: Sequence[ReadModel], *, on_page: Callable[[int], object] | None = None
) -> Replay:
    """Rebuild every projection from one pass over the log, in memory, and compare each
    with the stored one, row by row, at the stored one's position; then fold on to the
    log's head, so that a live projection behind the log (or never built) is reported as
    behind, not as identical. A live projection that a runner moves while its rows are
    read is read again."""
    started = time.perf_counter()
    live = {p.name: await _live_rows(store, p.name) for p in projections}
    head = (await store.head()).position
    rebuild = Rebuild(store, projections, on_page=on_page)
    differing: dict[str, tuple[str, ...]] = {}
    fold_s = 0.0
    with _no_cycle_collection():
        for stop in sorted({position for position, _ in live.values()} | {head}):
            folding = time.perf_counter()
            await rebuild.fold_until(stop)
            fold_s += time.perf_counter() - folding
            for name, (position, rows) in live.items():
                if position == stop:
                    differing[name] = differing_keys(rows, rebuild.rows(name))
    outcomes = tuple(
        ReplayOutcome(p.name, live[p.name][0], len(live[p.name][1]), differing[p.name], head, len(rebuild.rows(p.name)))
        for p in projections
    )
    return Replay(outcomes, rebuild.events, fold_s, time.perf_counter() - started)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A rebuild keeps every row it makes: millions of live objects, which each run of the
    cycle collector walks again (a third of a 100,000-event replay's time). The rows
    hold no cycles, refcounting frees what the fold drops; collection resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _live_rows(store: Any, projection: str) -> tuple[int, dict[str, JSONValue]]:
    for _ in range(REPLAY_ATTEMPTS):
        position = await store.tracking_position(projection)
        rows = await store.all_rows(projection)
        if await store.tracking_position(projection) == position:
            return position, rows
    raise RuntimeError(f"projection {projection} kept moving during the replay; stop its runner and retry")


def differing_keys(live: dict[str, JSONValue], rebuilt: dict[str, JSONValue]) -> tuple[str, ...]:
    """Keys whose rows differ. A rebuilt row is compared as the store would give it back
    (JSON: tuples as lists, keys as strings) before it is called different."""
    return tuple(
        sorted(
            k
            for k in live.keys() | rebuilt.keys()
            if live.get(k) != rebuilt.get(k) and (k not in rebuilt or live.get(k) != _as_stored(rebuilt[k]))
        )
    )


def _as_stored(value: JSONValue) -> JSONValue:
    return json.loads(json.dumps(value))


def summarise(result: Replay) -> dict[str, Any]:
    """``different`` when a row differs, else ``behind`` when a live projection has not
    applied the whole log (the rows it has are compared, the rest cannot be), else
    ``identical``; and the throughput of the rebuild."""
    outcomes = result.outcomes
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
    report["throughput"] = {
        "events": result.events,
        "fold_s": round(result.fold_s, 3),
        "events_per_s": round(result.events_per_s),
        "total_s": round(result.total_s, 3),
    }
    return report
