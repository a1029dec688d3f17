"""``make soak``: ``citysettle serve --workers 2`` on PostgreSQL under a steady signed load
for ``--minutes`` (10 by default), sampled every ``--every`` seconds: the resident memory
(RSS) and open file descriptors of each of the service's processes, the PostgreSQL
connections to its database, and the load's latency percentiles, throughput and
refusals in the interval. Then the checker's log and audit checks on what the run made
(nothing acknowledged lost, nothing applied twice, ``audit verify``, ``audit replay``),
a plot of the samples, and the verdict on memory: over the run's second half, the
least-squares slope of each process's RSS must stay under ``RSS_SLOPE_MAX_MIB_PER_MIN``
(a leak of half a kilobyte a request at this load would exceed it).

The load is the reliability workload (`tests.reliability.workload`: fee invoices, wallet
top-ups and their PayOS notices, unreferenced credits, parking sessions started and
ended in cash), every request signed when it is sent, by ``--lanes`` clients each
starting a story every ``--pace`` seconds (a steady rate, not as fast as possible).

Run: ``python -m tests.reliability.soak --pg-url URL`` (``make soak``); writes
``bench/results/soak.json`` and ``bench/results/soak.png``; exit 1 when a check fails.
The database is a throwaway one created on the server of ``--pg-url`` and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from tests.reliability.checker import Verdict, build_model, check_audit, check_log, read_log
from tests.reliability.client import Budget, ReliableClient
from tests.reliability.history import History
from tests.reliability.runs import checkpoint_env
from tests.reliability.service import Service
from tests.reliability.workload import Workload, seed_store

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
RSS_SLOPE_MAX_MIB_PER_MIN = 1.0


def proc_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_fds(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def slope_per_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return 60 * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


class Sampler:
    def __init__(self, service: Service, history: History, db_url: str, database: str) -> None:
        self.service = service
        self.history = history
        self.db_url = db_url
        self.database = database
        self.samples: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self._seen_until = self.started

    async def sample(self, conn: asyncpg.Connection) -> dict[str, Any]:
        assert self.service.process is not None
        parent = self.service.process.pid
        processes = {"parent": parent} | {f"worker{i + 1}": pid for i, pid in enumerate(self.service.worker_pids())}
        connections = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", self.database
        )
        now = time.monotonic()
        latencies, answered, refused = [], 0, 0
        for operation in self.history.operations:
            for attempt in operation.attempts:
                if self._seen_until <= attempt.ended < now:
                    latencies.append(attempt.ended - attempt.started)
                    answered += 1
                    if attempt.status is None or attempt.status >= 500:
                        refused += 1
        interval = now - self._seen_until
        self._seen_until = now
        sample = {
            "t_s": round(now - self.started, 1),
            "rss_mib": {n: round((proc_rss_kib(p) or 0) / 1024, 1) for n, p in processes.items()},
            "fds": {n: proc_fds(p) for n, p in processes.items()},
            "pids": processes,
            "pg_connections": connections,
            "requests_per_s": round(answered / interval, 1) if interval else 0.0,
            "errors": refused,
            "latency_ms": {
                q: None if (v := percentile(latencies, level)) is None else round(1000 * v, 1)
                for q, level in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            },
        }
        self.samples.append(sample)
        return sample


async def paced_lane(workload: Workload, index: int, pace_s: float) -> None:
    rng = random.Random(workload.seed * 1_000 + index)
    stories = (workload.fee, workload.fee, workload.topup, workload.parking, workload.parking, workload.stray_credit)
    next_at = time.monotonic() + rng.uniform(0, pace_s)
    while not workload.stop.is_set():
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += pace_s
        await rng.choice(stories)(rng)


async def soak(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    database = f"citysettle_soak_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(args.pg_url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    store_url = with_database(args.pg_url, database)
    verdict = Verdict("soak_postgres")
    try:
        checkpoints, keyring = checkpoint_env(folder)
        signers = await seed_store(store_url)
        service = Service(store_url, args.workers, folder, checkpoints)
        service.start()
        history = History()
        sampler = Sampler(service, history, store_url, database)
        try:
            await service.until_ready()
            connector = aiohttp.TCPConnector(limit=args.lanes * 2)
            async with aiohttp.ClientSession(connector=connector) as session:
                client = ReliableClient(session, service.base, history, Budget(attempts=50, seconds=60))
                workload = Workload(client, signers, seed=51)
                await workload.register_payees()
                lanes = [asyncio.create_task(paced_lane(workload, i, args.pace)) for i in range(args.lanes)]
                ends = time.monotonic() + args.minutes * 60
                sampler.started = sampler._seen_until = time.monotonic()
                while time.monotonic() < ends:
                    await asyncio.sleep(args.every)
                    sample = await sampler.sample(admin)
                    print(json.dumps(sample), flush=True)
                    assert service.process is not None
                    assert service.process.poll() is None, f"serve exited: {service.tail()}"
                workload.stop.set()
                await asyncio.gather(*lanes)
                await workload.settle_unanswered()
                model = build_model(history, workload.params, verdict)
            assert service.stop() == 0, f"serve did not stop cleanly: {service.tail()}"
        finally:
            if service.process is not None and service.process.poll() is None:
                service.kill_all()
        check_log(history, workload.params, model, await read_log(store_url), verdict)
        await check_audit(store_url, keyring, verdict)
        verdict.acknowledged = len([o for o in history.acknowledged() if o.kind != "setup"])
        verdict.attempts = history.attempts()
        verdict.statuses = history.statuses()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
    return judge(args, sampler.samples, verdict)


def judge(args: argparse.Namespace, samples: list[dict[str, Any]], verdict: Verdict) -> dict[str, Any]:
    half = [s for s in samples if s["t_s"] >= samples[-1]["t_s"] / 2]
    names = sorted({n for s in samples for n in s["rss_mib"]})
    slopes = {}
    for name in names:
        # a worker restarted by its parent is another process: its samples are its own
        pid = half[-1]["pids"].get(name)
        points = [(s["t_s"], s["rss_mib"][name]) for s in half if s["pids"].get(name) == pid]
        slopes[name] = None if (v := slope_per_min(points)) is None else round(v, 3)
    for name, slope in slopes.items():
        if slope is None:
            verdict.problems.append(f"{name}: too few samples in the second half for a slope")
        elif slope > RSS_SLOPE_MAX_MIB_PER_MIN:
            verdict.problems.append(f"{name}: RSS grows {slope} MiB/min over the second half")
    restarted = {n for n in names if len({s["pids"].get(n) for s in samples}) > 1}
    if restarted:
        verdict.problems.append(f"processes replaced during the soak: {sorted(restarted)}")
    latencies = [s["latency_ms"]["p99"] for s in samples if s["latency_ms"]["p99"] is not None]
    summary = verdict.summary()
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
        "command": "make soak",
        "minutes": args.minutes,
        "workers": args.workers,
        "lanes": args.lanes,
        "pace_s": args.pace,
        "sample_every_s": args.every,
        "rss_slope_max_mib_per_min": RSS_SLOPE_MAX_MIB_PER_MIN,
        "rss_slope_second_half_mib_per_min": slopes,
        "rss_mib_first_last": {n: (samples[0]["rss_mib"].get(n), samples[-1]["rss_mib"].get(n)) for n in names},
        "fds_first_last": {n: (samples[0]["fds"].get(n), samples[-1]["fds"].get(n)) for n in names},
        "pg_connections_min_max": (
            min(s["pg_connections"] for s in samples),
            max(s["pg_connections"] for s in samples),
        ),
        "requests_per_s_mean": round(statistics.fmean(s["requests_per_s"] for s in samples), 1),
        "latency_p99_ms_median_worst": (percentile(latencies, 0.5), max(latencies, default=None)),
        "ok": verdict.ok,
        "verdict": summary,
        "samples": samples,
    }


def plot(result: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"]
    t = [s["t_s"] / 60 for s in samples]
    names = sorted({n for s in samples for n in s["rss_mib"]})
    figure, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    for name in names:
        axes[0].plot(t, [s["rss_mib"].get(name) for s in samples], label=name)
        axes[1].plot(t, [s["fds"].get(name) for s in samples], label=name)
    axes[0].set_ylabel("RSS (MiB)")
    axes[0].legend(loc="upper left")
    axes[1].set_ylabel("open file descriptors")
    axes[1].legend(loc="upper left")
    axes[2].plot(t, [s["pg_connections"] for s in samples], label="PostgreSQL connections", color="tab:purple")
    axes[2].plot(t, [s["requests_per_s"] for s in samples], label="requests/s answered", color="tab:gray")
    axes[2].legend(loc="upper left")
    for q in ("p50", "p95", "p99"):
        axes[3].plot(t, [s["latency_ms"][q] for s in samples], label=q)
    axes[3].set_ylabel("latency (ms)")
    axes[3].set_yscale("log")
    axes[3].legend(loc="upper left")
    axes[3].set_xlabel("minutes")
    slopes = ", ".join(f"{n} {v} MiB/min" for n, v in result["rss_slope_second_half_mib_per_min"].items())
    figure.suptitle(
        f"make soak: serve --workers {result['workers']} on PostgreSQL, {result['minutes']} min, "
        f"{result['requests_per_s_mean']} req/s\nRSS slope over the second half: {slopes}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(out, dpi=90)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", required=True, help="a PostgreSQL server where a throwaway database may be made")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lanes", type=int, default=6)
    parser.add_argument("--pace", type=float, default=0.25, help="seconds between the stories a lane starts")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "soak.png")
    args = parser.parse_args(argv)
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="citysettle-soak-") as folder:
        result = asyncio.run(soak(args, Path(folder)))
    result["uptime_before"] = uptime_before
    result["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, args.plot)
    brief = {k: v for k, v in result.items() if k not in ("samples", "verdict")}
    print(json.dumps(brief, indent=1))
    problems = result["verdict"]["problems"]
    print("soak: " + ("ok" if result["ok"] else "FAILED: " + "; ".join(problems)), file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
