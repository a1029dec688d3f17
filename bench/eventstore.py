"""Event store benchmark (issue 2): new aggregate + single-event append, PostgreSQL fsync on.

Scenarios, same machine, same run, each on its own empty table:

(a) stock eventsourcing ``Application`` on ``eventsourcing.postgres`` (psycopg), one
    ``save`` of a new aggregate per event, called from asyncio through a thread pool;
(b) our ``PostgresEventStore`` (asyncpg, group commit), ``--concurrency`` tasks each
    creating a new aggregate and appending its one event, uvloop as the event loop;
(b128) the same with the group commit of before issue 14 (a fixed cap of 128 events per
    batch), to show what the load-following batches change in the same run;
(c) raw asyncpg ``copy_records_to_table`` of pre-encoded rows of the same shape, one
    transaction per ``--concurrency`` rows (the largest batch (b) can form): the ceiling;
(d) our ``SqliteEventStore``, same workload as (b);
(e) two writer processes (spawn) each running (b) against the same database at once.

(b), (b128) and (c) run interleaved in ``--rounds`` rounds (b, b128, c, b128, b, c, ...):
the disk's fsync and the neighbours' load on this shared machine vary more than the
effects measured, so each ratio is the median of the rounds' ratios, with its spread
(lowest, highest) beside it. Every timed scenario is preceded by a warm-up on the same store. The benchmark creates a
throwaway database ``citysettle_bench_<pid>`` through ``CITYSETTLE_BENCH_PG_URL`` (a
role with CREATEDB; the URL names an existing database to connect to) and drops it at
the end. Results are printed and written to ``bench/results/eventstore.json``.

Run: ``make bench`` (or ``.venv/bin/python bench/eventstore.py --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import queue
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import uvloop
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEventProtocol, event

# bench/ is not a package: make the project importable when run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.eventstore.chain import GENESIS_HASH, chain_hash
from adapters.eventstore.codec import CodecOptions, EncodedEvent, build_mapper, encode_events
from adapters.eventstore.postgres import PostgresEventStore
from adapters.eventstore.sqlite import SqliteEventStore
from domain.ports import Committed

DEFAULT_PG_URL = "postgresql://citysettle:citysettle@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).resolve().parent / "results" / "eventstore.json"
BARRIER_TIMEOUT_S = 120.0  # the other writer process failed to start if it takes longer
GOALS = {
    "citysettle_events_per_s": 30_000,
    "ratio_vs_stock": 20,
    "two_process_events_per_s": 50_000,
    "sqlite_events_per_s": 10_000,
    "ratio_vs_ceiling": 0.5,
}
FIXED_CAP_BEFORE = 128  # the group commit's fixed batch cap before issue 14, item 3


class Parcel(Aggregate):
    """The small aggregate of every scenario: one explicitly declared event, one field."""

    class Registered(Aggregate.Created):
        ref: str

    @event(Registered)
    def __init__(self, ref: str) -> None:
        self.ref = ref


class AppendingStore(Protocol):
    async def append(self, events: Sequence[DomainEventProtocol[UUID]]) -> Committed: ...


@dataclass(frozen=True, slots=True)
class Settings:
    pg_url: str
    concurrency: int
    warmup_s: float
    duration_s: float
    stock_threads: int
    stock_duration_s: float
    copy_rows: int
    rounds: int
    batching: dict[str, Any]
    """Group-commit options passed to the stores; empty means the stores' defaults."""


@dataclass(frozen=True, slots=True)
class Run:
    """One timed window: events that completed, wall time, per-append latencies (s)."""

    events: int
    started: float
    finished: float
    latencies: list[float]

    @property
    def elapsed_s(self) -> float:
        return self.finished - self.started

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed_s

    def latency_ms(self, quantile: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        cuts = statistics.quantiles(self.latencies, n=1000, method="inclusive")
        return 1000 * cuts[round(quantile * 1000) - 1]


# -- the workload -----------------------------------------------------------------------


async def closed_loop(append_one: Callable[[], Awaitable[None]], concurrency: int, duration_s: float) -> Run:
    """``concurrency`` tasks call ``append_one`` back to back for ``duration_s``; the
    window ends when the last in-flight append has returned."""
    latencies: list[float] = []
    deadline = time.monotonic() + duration_s

    async def worker() -> None:
        clock = time.monotonic
        while clock() < deadline:
            t0 = clock()
            await append_one()
            latencies.append(clock() - t0)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(len(latencies), started, time.monotonic(), latencies)


async def warm_then_measure(
    append_one: Callable[[], Awaitable[None]], s: Settings, duration_s: float | None = None
) -> Run:
    await closed_loop(append_one, s.concurrency, s.warmup_s)
    return await closed_loop(append_one, s.concurrency, duration_s or s.duration_s)


def appender(store: AppendingStore) -> Callable[[], Awaitable[None]]:
    """Create a new aggregate and append its single event (what (b), (d), (e) time)."""

    async def append_one() -> None:
        parcel = Parcel(ref="P-0001")
        await store.append(parcel.collect_events())

    return append_one


# -- scenarios --------------------------------------------------------------------------


async def bench_stock(s: Settings, dbname: str) -> Run:
    """(a) eventsourcing's own PostgreSQL persistence, saves run on a thread pool."""
    parts = urlsplit(s.pg_url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_SCHEMA": "stock",
        "POSTGRES_POOL_SIZE": str(s.stock_threads),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    app: Application[UUID] = Application(env=env)
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=s.stock_threads, thread_name_prefix="stock-save")

    async def append_one() -> None:
        parcel = Parcel(ref="P-0001")
        await loop.run_in_executor(executor, app.save, parcel)

    try:
        return await warm_then_measure(append_one, s, s.stock_duration_s)
    finally:
        executor.shutdown(wait=True)
        app.close()


async def open_pg_store(s: Settings, url: str, batching: dict[str, Any] | None = None) -> PostgresEventStore:
    return await PostgresEventStore.open(url, codec=CodecOptions(), **(s.batching if batching is None else batching))


async def bench_citysettle(
    s: Settings, url: str, batching: dict[str, Any] | None = None
) -> tuple[Run, dict[str, float]]:
    """(b) our asyncpg store with group commit ((b128): with ``batching`` of before)."""
    store = await open_pg_store(s, url, batching)
    try:
        await closed_loop(appender(store), s.concurrency, s.warmup_s)
        stats = store.committer.stats
        before = stats.batches, stats.events
        run = await closed_loop(appender(store), s.concurrency, s.duration_s)
        batches = stats.batches - before[0]
        events = stats.events - before[1]
    finally:
        await store.close()
    return run, {"batches": batches, "mean_batch_events": events / max(1, batches)}


async def bench_sqlite(s: Settings, directory: str) -> Run:
    """(d) our SQLite store (WAL, synchronous=FULL), same workload as (b)."""
    store = await SqliteEventStore.open(f"sqlite:///{directory}/bench.db", **s.batching)
    try:
        return await warm_then_measure(appender(store), s)
    finally:
        await store.close()


def ceiling_rows(count: int) -> list[tuple[int, UUID, int, str, bytes, bytes]]:
    """Rows exactly as our store writes them (encoded by its mapper, chained hashes),
    built before timing so that (c) measures the database alone."""
    mapper = build_mapper(CodecOptions())
    samples = [encode_events(mapper, Parcel(ref="P-0001").collect_events())[0] for _ in range(1_000)]
    rows = []
    prev = GENESIS_HASH
    for position in range(1, count + 1):
        sample = samples[position % len(samples)]
        row = EncodedEvent(uuid4(), 1, sample.topic, sample.state)
        prev = chain_hash(prev, position, row)
        rows.append((position, row.stream_id, 1, row.topic, row.state, prev))
    return rows


async def bench_copy_ceiling(s: Settings, url: str, rows: list[tuple[Any, ...]]) -> Run:
    """(c) raw COPY into a new table shaped like ours, one transaction per batch."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS ceiling.events")
        await conn.execute(
            """CREATE TABLE ceiling.events (
                   position  bigint PRIMARY KEY,
                   stream_id uuid   NOT NULL,
                   version   bigint NOT NULL,
                   topic     text   NOT NULL,
                   state     bytea  NOT NULL,
                   hash      bytea  NOT NULL,
                   CONSTRAINT events_stream_version UNIQUE (stream_id, version))"""
        )
        warm = min(len(rows) // 10, 20 * s.concurrency)
        for i in range(0, warm, s.concurrency):
            await conn.copy_records_to_table("events", schema_name="ceiling", records=rows[i : i + s.concurrency])
        started = time.monotonic()
        for i in range(warm, len(rows), s.concurrency):
            await conn.copy_records_to_table("events", schema_name="ceiling", records=rows[i : i + s.concurrency])
        finished = time.monotonic()
    finally:
        await conn.close()
    return Run(len(rows) - warm, started, finished, [])


def two_process_writer(settings: Settings, url: str, barrier: Barrier, results: Any) -> None:
    """(e) one of the writer processes: warm up, wait for the other, run (b)."""

    async def main() -> None:
        store = await open_pg_store(settings, url)
        try:
            await closed_loop(appender(store), settings.concurrency, settings.warmup_s)
            await asyncio.to_thread(barrier.wait, BARRIER_TIMEOUT_S)
            run = await closed_loop(appender(store), settings.concurrency, settings.duration_s)
        finally:
            await store.close()
        results.put((run.events, run.started, run.finished))

    uvloop.run(main())


def bench_two_processes(s: Settings, url: str) -> Run:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=two_process_writer, args=(s, url, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes: list[tuple[int, float, float]] = []
    while len(outcomes) < len(procs):
        try:
            outcomes.append(results.get(timeout=1.0))
        except queue.Empty:
            failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if failed:
                for p in procs:
                    p.terminate()
                raise RuntimeError(f"writer process exited with {failed[0]}") from None
    for p in procs:
        p.join()
    # Windows overlap (barrier); CLOCK_MONOTONIC is system-wide on Linux.
    started = min(o[1] for o in outcomes)
    finished = max(o[2] for o in outcomes)
    return Run(sum(o[0] for o in outcomes), started, finished, [])


# -- database lifecycle and report -------------------------------------------------------


def foreign_cpu_s() -> dict[int, float]:
    """CPU seconds so far of every process that is neither this benchmark (nor a child
    of it) nor PostgreSQL: what other work on the machine took while we measured."""
    ticks = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        if comm != "postgres" and me not in (pid, ppid):
            out[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def background_cores(before: dict[int, float], after: dict[int, float], elapsed_s: float) -> float:
    """Cores' worth of CPU that other processes used between two `foreign_cpu_s`."""
    used = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
    return round(used / elapsed_s, 2)


def with_database(url: str, dbname: str, schema: str | None = None) -> str:
    parts = urlsplit(url)
    query = f"schema={schema}" if schema else ""
    return urlunsplit(parts._replace(path=f"/{dbname}", query=query))


async def create_database(admin_url: str, dbname: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(with_database(admin_url, dbname))
    try:
        for schema in ("stock", "citysettle", "fixed_cap", "ceiling", "two_process"):
            await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, dbname: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await admin.close()


async def server_info(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        keys = ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "shared_buffers")
        return {f"pg_{k}": str(await conn.fetchval(f"SHOW {k}")) for k in keys}
    finally:
        await conn.close()


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "machine_nproc": os.cpu_count(),
        "machine_cpu": cpu,
        "machine_platform": platform.platform(),
        "python": platform.python_version(),
        "asyncpg_version": package_version("asyncpg"),
        "eventsourcing_version": package_version("eventsourcing"),
        "psycopg_version": package_version("psycopg"),
        "uvloop_version": package_version("uvloop"),
    }


async def run_postgres_scenarios(s: Settings, dbname: str) -> dict[str, Any]:
    out: dict[str, Any] = await server_info(with_database(s.pg_url, dbname))

    print(f"(a) stock eventsourcing, {s.stock_threads} threads ...", flush=True)
    stock = await bench_stock(s, dbname)
    print(f"    {stock.events_per_s:,.0f} events/s ({stock.events} in {stock.elapsed_s:.1f} s)")

    rows = ceiling_rows(s.copy_rows)
    fixed = {**s.batching, "max_batch_events": FIXED_CAP_BEFORE, "adaptive_batches": False}
    rounds: list[dict[str, Any]] = []
    for i in range(1, s.rounds + 1):
        # (b) and (b128) swap places every round: the one right after the previous
        # round's COPY shares the disk with its write-back
        results: dict[str, tuple[Run, dict[str, Any], float]] = {}
        for name in ("b", "b128") if i % 2 else ("b128", "b"):
            label = (
                f"(b) citysettle asyncpg store, {s.concurrency} tasks"
                if name == "b"
                else (f"(b128) the same, fixed cap of {FIXED_CAP_BEFORE} events")
            )
            print(f"round {i}/{s.rounds}: {label} ...", flush=True)
            before, started = foreign_cpu_s(), time.monotonic()
            schema, options = ("citysettle", None) if name == "b" else ("fixed_cap", fixed)
            run, stats = await bench_citysettle(s, with_database(s.pg_url, dbname, schema), options)
            # A busy neighbour on this shared 2-core machine shows here.
            background = background_cores(before, foreign_cpu_s(), time.monotonic() - started)
            results[name] = (run, stats, background)
            print(
                f"    {run.events_per_s:,.0f} events/s ({run.events} in {run.elapsed_s:.1f} s), "
                f"p50 {run.latency_ms(0.5):.1f} ms, p99 {run.latency_ms(0.99):.1f} ms, "
                f"mean batch {stats['mean_batch_events']:.0f} events; "
                f"other processes used {background:.2f} cores meanwhile"
            )
        ours, batching, background = results["b"]
        old, old_batching, _ = results["b128"]
        print(f"    (c) raw COPY ceiling, {s.concurrency} rows per transaction ...", flush=True)
        ceiling = await bench_copy_ceiling(s, with_database(s.pg_url, dbname), rows)
        print(
            f"    {ceiling.events_per_s:,.0f} events/s ({ceiling.events} in {ceiling.elapsed_s:.1f} s); "
            f"b/c {ours.events_per_s / ceiling.events_per_s:.3f}, b128/c {old.events_per_s / ceiling.events_per_s:.3f}"
        )
        rounds.append(
            {
                "citysettle_events_per_s": round(ours.events_per_s),
                "append_p50_ms": round(ours.latency_ms(0.5), 2),
                "append_p99_ms": round(ours.latency_ms(0.99), 2),
                "mean_batch_events": round(batching["mean_batch_events"], 1),
                "batches": batching["batches"],
                "fixed_cap_events_per_s": round(old.events_per_s),
                "fixed_cap_mean_batch_events": round(old_batching["mean_batch_events"], 1),
                "copy_ceiling_events_per_s": round(ceiling.events_per_s),
                "ratio_vs_ceiling": round(ours.events_per_s / ceiling.events_per_s, 3),
                "ratio_fixed_cap_vs_ceiling": round(old.events_per_s / ceiling.events_per_s, 3),
                "ratio_vs_fixed_cap": round(ours.events_per_s / old.events_per_s, 3),
                "background_cpu_cores": background,
            }
        )

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in rounds))

    def spread(key: str) -> list[float]:
        return [min(r[key] for r in rounds), max(r[key] for r in rounds)]

    out.update(
        stock_eventsourcing_events_per_s=round(stock.events_per_s),
        stock_threads=s.stock_threads,
        stock_append_p99_ms=round(stock.latency_ms(0.99), 2),
        rounds=rounds,
        citysettle_events_per_s=round(median("citysettle_events_per_s")),
        citysettle_events_per_s_spread=spread("citysettle_events_per_s"),
        append_p50_ms=median("append_p50_ms"),
        append_p99_ms=median("append_p99_ms"),
        citysettle_mean_batch_events=median("mean_batch_events"),
        copy_ceiling_events_per_s=round(median("copy_ceiling_events_per_s")),
        copy_ceiling_events_per_s_spread=spread("copy_ceiling_events_per_s"),
        copy_ceiling_rows_per_transaction=s.concurrency,
        ratio_vs_stock=round(median("citysettle_events_per_s") / stock.events_per_s, 2),
        ratio_vs_ceiling=median("ratio_vs_ceiling"),
        ratio_vs_ceiling_spread=spread("ratio_vs_ceiling"),
        ratio_fixed_cap_vs_ceiling=median("ratio_fixed_cap_vs_ceiling"),
        ratio_fixed_cap_vs_ceiling_spread=spread("ratio_fixed_cap_vs_ceiling"),
        ratio_vs_fixed_cap=median("ratio_vs_fixed_cap"),
        ratio_vs_fixed_cap_spread=spread("ratio_vs_fixed_cap"),
        background_cpu_cores_during_b=median("background_cpu_cores"),
    )
    return out


def parse_args() -> Settings:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--concurrency", type=int, default=256, help="concurrent appending tasks (b, d, e)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each scenario")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds for (b), (d), (e)")
    p.add_argument("--stock-threads", type=int, default=4, help="thread pool (and psycopg pool) size for (a)")
    p.add_argument("--stock-duration", type=float, default=10.0, help="measured seconds for (a)")
    p.add_argument("--copy-rows", type=int, default=200_000, help="rows written by (c) in each round")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds of (b), (b128), (c); at least 1")
    p.add_argument("--max-batch-events", type=int, help="group commit bound (default: the store's)")
    p.add_argument("--max-wait-ms", type=float, help="group commit wait (default: the store's)")
    a = p.parse_args()
    batching = {"max_batch_events": a.max_batch_events, "max_wait_ms": a.max_wait_ms}
    return Settings(
        pg_url=os.environ.get("CITYSETTLE_BENCH_PG_URL", DEFAULT_PG_URL),
        concurrency=a.concurrency,
        warmup_s=a.warmup,
        duration_s=a.duration,
        stock_threads=a.stock_threads,
        stock_duration_s=a.stock_duration,
        copy_rows=a.copy_rows,
        rounds=max(1, a.rounds),
        batching={k: v for k, v in batching.items() if v is not None},
    )


def main() -> None:
    s = parse_args()
    dbname = f"citysettle_bench_{os.getpid()}"
    results: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        **machine_info(),
        "machine_loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "concurrency": s.concurrency,
        "warmup_s": s.warmup_s,
        "duration_s": s.duration_s,
        **s.batching,
    }
    uvloop.run(create_database(s.pg_url, dbname))
    try:
        results.update(uvloop.run(run_postgres_scenarios(s, dbname)))

        print(f"(d) citysettle SQLite store, {s.concurrency} tasks ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="citysettle-bench-") as directory:
            sqlite = uvloop.run(bench_sqlite(s, directory))
        print(f"    {sqlite.events_per_s:,.0f} events/s, p99 {sqlite.latency_ms(0.99):.1f} ms")
        results["sqlite_events_per_s"] = round(sqlite.events_per_s)
        results["sqlite_append_p99_ms"] = round(sqlite.latency_ms(0.99), 2)

        print(f"(e) two writer processes x {s.concurrency} tasks, one database ...", flush=True)
        before, started = foreign_cpu_s(), time.monotonic()
        two = bench_two_processes(s, with_database(s.pg_url, dbname, "two_process"))
        elapsed = time.monotonic() - started
        results["background_cpu_cores_during_e"] = background_cores(before, foreign_cpu_s(), elapsed)
        print(
            f"    {two.events_per_s:,.0f} events/s ({two.events} in {two.elapsed_s:.1f} s); "
            f"other processes used {results['background_cpu_cores_during_e']:.2f} cores meanwhile"
        )
        results["two_process_events_per_s"] = round(two.events_per_s)
    finally:
        uvloop.run(drop_database(s.pg_url, dbname))

    print()
    print(f"ratio b/a (vs stock eventsourcing): {results['ratio_vs_stock']:.1f}x")
    low, high = results["ratio_vs_ceiling_spread"]
    print(f"ratio b/c (vs COPY ceiling):        {results['ratio_vs_ceiling']:.3f} (median of {s.rounds}, {low}-{high})")
    low, high = results["ratio_fixed_cap_vs_ceiling_spread"]
    print(f"ratio b128/c (fixed cap of before): {results['ratio_fixed_cap_vs_ceiling']:.3f} ({low}-{high})")
    for key, goal in GOALS.items():
        verdict = "met" if results[key] >= goal else "NOT met"
        print(f"goal {key} >= {goal:,}: {results[key]:,} ({verdict})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
