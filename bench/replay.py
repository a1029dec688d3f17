"""Replay benchmark (issue 11): rebuild every projection from the log, SQLite.

Workload: ``--transfers`` posted ledger transfers (default 100,000), generated
deterministically: 70 % bank credits to one of 20 agencies' payable accounts, 20 %
parking fees collected in cash by one of 5 operators, 10 % cash deposits into the bank;
one second apart, so they span a little more than a Hanoi day. Every event reaches four
of the eight projections (ledger balances and entries, payees' open postings, cash on
hand); each is a real fold, not a read.

Scenarios, same events, same machine, same run, one after the other:

(a) stock eventsourcing: an ``Application`` on ``eventsourcing.sqlite`` holds the same
    events; they are read as that library's ``Follower`` reads a leader (its SQLite
    recorder has no subscriptions): ``NotificationLogReader.select`` in sections, each
    notification decoded by the application's stock mapper, with its ``Tracking``:
    read + decode, no fold;
(b) ours, read + decode only: `SqliteEventStore.read_log` pages and ``store.decode``;
(c) ours, the rebuild of `audit replay`: read + decode + fold into every projection
    (`ops.projections.replay`, one pass over the log); its figure is the goal's.

(c) runs in a fresh interpreter each round (`REPLAY_ONCE`), so that ``--baseline REV``
can run the same rebuild of another revision of this repository (``git archive`` of REV
into a temporary directory) on the same store, interleaved with ours round by round:
before and after in one run, under the same load.

Each timed scenario runs ``--rounds`` times (default 3) and the best round counts (the
machine is shared: the others measure its neighbours). Results are printed and
written to ``bench/results/replay.json``.

Run: ``make bench`` (or ``.venv/bin/python bench/replay.py --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.system import NotificationLogReader

# bench/ is not a package: make the project importable when run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.eventstore.sqlite import SqliteEventStore
from bench.eventstore import machine_info as eventstore_machine_info
from domain.model.ledger import PartyKind, cash, credit, debit, payable
from domain.model.transfers import Transfer
from ops.projections import projections

RESULTS = Path(__file__).resolve().parent / "results" / "replay.json"
GOAL_EVENTS_PER_S = 100_000
BATCH = 1_000
PAGE = 5_000  # events a page; also our rebuild's (domain.services.rebuild.PAGE_SIZE)
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def transfers(count: int) -> list[Any]:
    """The ``Transfer.Posted`` events of ``count`` transfers."""
    rng = random.Random(11)
    banks = [f"bank:970436:00110044{n:04d}" for n in range(3)]
    agencies = [payable(PartyKind.AGENCY, f"ward-{n:02d}") for n in range(20)]
    operators = [f"operator-{n}" for n in range(5)]
    made: list[Any] = []
    for n in range(count):
        amount = rng.randrange(1, 500) * 1_000
        at = T0 + timedelta(seconds=n)
        if n % 10 < 7:
            kind, entries = (
                "bank_credit.exact",
                [debit(rng.choice(banks), amount), credit(rng.choice(agencies), amount)],
            )
        elif n % 10 < 9:
            operator = rng.choice(operators)
            to_operator = credit(payable(PartyKind.OPERATOR, operator), amount)
            kind, entries = "parking.cash", [debit(cash(operator), amount), to_operator]
        else:
            kind, entries = (
                "cash.deposit",
                [debit(rng.choice(banks), amount), credit(cash(rng.choice(operators)), amount)],
            )
        made.extend(Transfer.post(f"bench:{n}", kind, entries, at).collect_events())
    return made


async def fill_ours(url: str, made: list[Any]) -> None:
    store = await SqliteEventStore.open(url)
    try:
        for start in range(0, len(made), BATCH):
            await store.append(made[start : start + BATCH])
    finally:
        await store.close()


class StockApplication(Application[UUID]):
    log_section_size = PAGE  # sections of the notification log as large as our pages


def stock_app(path: str) -> Application[UUID]:
    return StockApplication(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path})


def fill_stock(path: str, made: list[Any]) -> None:
    app = stock_app(path)
    try:
        for start in range(0, len(made), BATCH):
            app.save(*made[start : start + BATCH])
    finally:
        app.close()


def stock_replay(path: str) -> tuple[int, float]:
    """(a): what eventsourcing's ``Follower`` does to follow an application (its SQLite
    recorder has no subscriptions): pull the notifications in sections through a
    ``NotificationLogReader``, decode each with the application's mapper and pair it with
    its ``Tracking``. The section is as large as our page."""
    app = stock_app(path)
    try:
        reader = NotificationLogReader(app.notification_log, section_size=PAGE)
        started = time.perf_counter()
        seen = 0
        for notifications in reader.select(start=1):
            for notification in notifications:
                app.mapper.to_domain_event(notification)
                Tracking(application_name=app.name, notification_id=notification.id)
            seen += len(notifications)
        return seen, time.perf_counter() - started
    finally:
        app.close()


async def read_decode(url: str) -> tuple[int, float]:
    """(b)"""
    store = await SqliteEventStore.open(url, create=False)
    try:
        started = time.perf_counter()
        position, seen = 0, 0
        while records := await store.read_log(position, PAGE):
            for record in records:
                store.decode(record)
            seen += len(records)
            position = records[-1].position
        return seen, time.perf_counter() - started
    finally:
        await store.close()


# (c) in a fresh interpreter, from the source tree given first (this one, or a baseline's):
# what `audit replay` runs, and the figures it reports.
REPLAY_ONCE = """
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
from adapters.eventstore.sqlite import SqliteEventStore
from ops.projections import projections, replay

async def main():
    store = await SqliteEventStore.open(sys.argv[2], create=False)
    try:
        cpu = time.process_time()
        result = await replay(store, projections())
        cpu = time.process_time() - cpu  # of every thread of the process, the store's reader's too
    finally:
        await store.close()
    entries = next(o for o in result.outcomes if o.projection == "ledger_entries")
    figures = {"events": result.events, "fold_s": result.fold_s, "cpu_s": cpu, "entries_rows": entries.rebuilt_rows}
    print(json.dumps(figures))

asyncio.run(main())
"""


CPU_S: dict[Path, list[float]] = {}  # each tree's rounds: CPU seconds of its whole replay (live rows read too)


def replay_in(tree: Path, url: str, count: int) -> tuple[int, float]:
    done = subprocess.run(
        [sys.executable, "-c", REPLAY_ONCE, str(tree), url], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["events"] == count, figures
    assert figures["entries_rows"] > 2 * count, figures  # 2 entries a transfer, plus a count per account
    CPU_S.setdefault(tree, []).append(float(figures["cpu_s"]))
    return int(figures["events"]), float(figures["fold_s"])


def source_tree(rev: str, into: Path) -> Path:
    """REV of this repository as files (``git archive``), without touching the checkout."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", rev], capture_output=True, check=True)
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def machine_info() -> dict[str, Any]:
    return {**eventstore_machine_info(), "msgspec_version": package_version("msgspec")}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--transfers", type=int, default=100_000, help="posted transfers in the log")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per scenario; the best counts")
    p.add_argument("--baseline", metavar="REV", help="also time this revision's rebuild, interleaved with ours")
    a = p.parse_args()
    results: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        **machine_info(),
        "uptime_at_start": uptime(),
        "transfers": a.transfers,
        "rounds": a.rounds,
        "projections": [p.name for p in projections()],
    }
    print(f"generating {a.transfers:,} transfers ...", flush=True)
    made = transfers(a.transfers)
    here = Path(__file__).resolve().parent.parent
    rounds: dict[str, list[float]] = {"stock": [], "read_decode": [], "replay": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="citysettle-bench-replay-") as directory:
        ours_url, stock_path = f"sqlite:///{directory}/ours.db", f"{directory}/stock.db"
        fill_stock(stock_path, made)
        asyncio.run(fill_ours(ours_url, made))
        del made
        baseline = source_tree(a.baseline, Path(directory) / "baseline") if a.baseline else None
        for n in range(1, a.rounds + 1):
            print(f"round {n} of {a.rounds}", flush=True)
            timed: dict[str, Callable[[], tuple[int, float]]] = {
                "stock": lambda: stock_replay(stock_path),  # (a)
                "read_decode": lambda: asyncio.run(read_decode(ours_url)),  # (b)
                "replay": lambda: replay_in(here, ours_url, a.transfers),  # (c)
            }
            if baseline is not None:
                timed["baseline"] = lambda: replay_in(baseline, ours_url, a.transfers)
            for name, run in timed.items():
                events, seconds = run()
                assert events == a.transfers, (name, events)
                rounds[name].append(seconds)
                print(f"    {name}: {events / seconds:,.0f} events/s ({seconds:.2f} s)", flush=True)

    def per_s(name: str) -> float:
        return float(a.transfers / min(rounds[name]))

    replay_per_s, stock_per_s = per_s("replay"), per_s("stock")
    results.update(
        stock_eventsourcing_read_decode_events_per_s=round(stock_per_s),
        stock_eventsourcing_s=round(min(rounds["stock"]), 3),
        read_decode_events_per_s=round(per_s("read_decode")),
        replay_events_per_s=round(replay_per_s),
        replay_s=round(min(rounds["replay"]), 3),
        replay_rounds_s=[round(s, 3) for s in rounds["replay"]],
        stock_rounds_s=[round(s, 3) for s in rounds["stock"]],
        read_decode_rounds_s=[round(s, 3) for s in rounds["read_decode"]],
        ratio_replay_vs_stock=round(replay_per_s / stock_per_s, 2),
        ratio_read_decode_vs_stock=round(per_s("read_decode") / stock_per_s, 2),
        goal_replay_events_per_s=GOAL_EVENTS_PER_S,
        goal_met=replay_per_s >= GOAL_EVENTS_PER_S,
        # CPU time rather than wall time: what the rebuild costs when the machine is not shared
        replay_cpu_events_per_s=round(a.transfers / min(CPU_S[here])),
    )
    if baseline is not None:
        results.update(
            baseline=a.baseline,
            baseline_replay_events_per_s=round(per_s("baseline")),
            baseline_rounds_s=[round(s, 3) for s in rounds["baseline"]],
            ratio_replay_vs_baseline=round(replay_per_s / per_s("baseline"), 2),
            baseline_replay_cpu_events_per_s=round(a.transfers / min(CPU_S[baseline])),
            ratio_replay_cpu_vs_baseline=round(min(CPU_S[baseline]) / min(CPU_S[here]), 2),
            # each round's own ratio: the spread the load gives
            ratio_replay_vs_baseline_by_round=[
                round(b / r, 2) for r, b in zip(rounds["replay"], rounds["baseline"], strict=True)
            ],
        )
    results["uptime_at_end"] = uptime()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
