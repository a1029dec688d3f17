"""Database outage: the service's PostgreSQL server (one of the test's own, `OwnPostgres`)
goes away during load and comes back; the service must answer throughout and heal by
itself.

Two kinds of outage, each a trial:

- *stopped*: ``pg_ctl stop -m fast`` (connections are cut, new ones refused) and, after
  ``down_s``, started again;
- *frozen*: every process of the server SIGSTOPped (connections stay open and nothing
  answers, as behind a dead network link) and, after ``down_s``, SIGCONTed.

Meanwhile ``/readyz`` is asked every ``PROBE_S``: it must say 503 (with Retry-After)
while the database is away and answer within the service's request timeout plus a
margin; every answer the load got in an outage must be a 503 with Retry-After (a 500,
a hang past the request timeout, or a closed connection is a failure); no worker may
exit. ``recovery_s`` is how long after the database's return ``/readyz`` said ready
again (the worst trial); it must be within 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.reliability.checker import Verdict
from tests.reliability.client import Budget
from tests.reliability.history import ANSWERED, History
from tests.reliability.runs import run_with_faults
from tests.reliability.service import OwnPostgres, Service
from tests.reliability.workload import Workload

PROBE_S = 0.2
REQUEST_TIMEOUT_S = 2  # the service's (CITYSETTLE_REQUEST_TIMEOUT_S) in these runs
ANSWER_MARGIN_S = 1.5  # an answer may take this much longer than the request timeout
RECOVERY_MAX_S = 5.0


@dataclass(frozen=True)
class OutagePlan:
    stops: int
    freezes: int
    down_s: float = 4.0  # longer than the request timeout: a frozen database makes requests wait for it
    workers: int = 2
    lanes: int = 6
    load_s: tuple[float, float] = (0.5, 1.5)
    seed: int = 21


@dataclass
class Probe:
    at: float
    status: int | None
    retry_after: str | None
    took_s: float


@dataclass
class Window:
    kind: str
    down: float
    up: float = 0.0
    ready: float = 0.0
    probes: list[Probe] = field(default_factory=list)

    @property
    def recovery_s(self) -> float:
        return self.ready - self.up


def postgres_pids(pg: OwnPostgres) -> list[int]:
    """The postmaster (first line of postmaster.pid) and its children."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(stat.parent.name))
    return [postmaster, *children]


async def probe(session: aiohttp.ClientSession, service: Service) -> Probe:
    started = time.monotonic()
    try:
        async with session.get(f"{service.base}/readyz", timeout=aiohttp.ClientTimeout(total=30)) as answer:
            await answer.read()
            return Probe(started, answer.status, answer.headers.get("Retry-After"), time.monotonic() - started)
    except (aiohttp.ClientError, OSError, TimeoutError):
        return Probe(started, None, None, time.monotonic() - started)


class Outages:
    def __init__(self, pg: OwnPostgres, plan: OutagePlan) -> None:
        self.pg = pg
        self.plan = plan
        self.windows: list[Window] = []
        self.worker_exits = 0

    async def __call__(self, service: Service, rng: random.Random, _workload: Workload) -> int:
        kinds = ["stopped"] * self.plan.stops + ["frozen"] * self.plan.freezes
        rng.shuffle(kinds)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            for kind in kinds:
                await asyncio.sleep(rng.uniform(*self.plan.load_s))
                workers = service.worker_pids()
                window = Window(kind, time.monotonic())
                frozen = await self._away(kind)
                while time.monotonic() - window.down < self.plan.down_s:
                    window.probes.append(await probe(session, service))
                    await asyncio.sleep(PROBE_S)
                await self._back(kind, frozen)
                window.up = time.monotonic()
                while time.monotonic() - window.up < 30:
                    if (await probe(session, service)).status == 200:
                        break
                    await asyncio.sleep(0.05)
                window.ready = time.monotonic()
                self.windows.append(window)
                assert service.process is not None
                assert service.process.poll() is None, f"serve exited in the outage: {service.tail()}"
                if service.worker_pids() != workers:
                    self.worker_exits += 1
        return len(kinds)

    async def _away(self, kind: str) -> list[int]:
        if kind == "stopped":
            await asyncio.to_thread(self.pg.stop, "fast")
            return []
        pids = postgres_pids(self.pg)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    async def _back(self, kind: str, frozen: list[int]) -> None:
        if kind == "stopped":
            await asyncio.to_thread(self.pg.start)
            return
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def judge_outages(outages: Outages, history: History, verdict: Verdict) -> None:
    """What the clients and the probes saw while the database was away."""
    verdict.recovery_s = max((w.recovery_s for w in outages.windows), default=None)
    if verdict.recovery_s is not None and verdict.recovery_s > RECOVERY_MAX_S:
        verdict.problems.append(f"ready again {verdict.recovery_s:.1f} s after the database returned")
    if outages.worker_exits:
        verdict.problems.append(f"a worker exited in {outages.worker_exits} outage(s)")
    limit = REQUEST_TIMEOUT_S + ANSWER_MARGIN_S
    in_outage = 0
    for window in outages.windows:
        # the first probe may start just before the database went away
        for p in window.probes[1:]:
            if p.status != 503 or p.retry_after is None:
                verdict.problems.append(f"/readyz in a {window.kind} outage: {p.status}, Retry-After {p.retry_after}")
            if p.took_s > limit:
                verdict.problems.append(f"/readyz took {p.took_s:.1f} s in a {window.kind} outage")
        for operation in history.operations:
            for attempt in operation.attempts:
                if not window.down + 0.5 < attempt.started < window.up:
                    continue
                in_outage += 1
                if attempt.outcome != ANSWERED:
                    verdict.problems.append(f"{operation.op_id} in a {window.kind} outage: {attempt.outcome}")
                elif 200 <= (attempt.status or 0) < 300:
                    pass  # answered from what the service holds (a replay, a cached client)
                elif attempt.status != 503 or attempt.retry_after is None:
                    verdict.problems.append(
                        f"{operation.op_id} in a {window.kind} outage: {attempt.status} {attempt.body}"
                    )
                if attempt.ended - attempt.started > limit:
                    took = attempt.ended - attempt.started
                    verdict.problems.append(f"{operation.op_id} in a {window.kind} outage took {took:.1f} s")
    verdict.extra |= {
        "outages": {k: sum(1 for w in outages.windows if w.kind == k) for k in ("stopped", "frozen")},
        "down_s": outages.plan.down_s,
        "answers_in_outages": in_outage,
        "recovery_s_each": [round(w.recovery_s, 2) for w in outages.windows],
        "request_timeout_s": REQUEST_TIMEOUT_S,
    }


async def outage_run(suite: str, folder: Path, plan: OutagePlan) -> Verdict:
    pg = OwnPostgres()
    try:
        pg.init()
        pg.start()
        outages = Outages(pg, plan)
        budget = Budget(request_timeout_s=REQUEST_TIMEOUT_S + 10)
        env = {"CITYSETTLE_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S)}
        verdict, history = await run_with_faults(
            suite, pg.url, folder, plan.workers, outages, lanes=plan.lanes, seed=plan.seed, env=env, budget=budget
        )
        judge_outages(outages, history, verdict)
        return verdict
    finally:
        pg.remove()
