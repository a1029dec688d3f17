"""Outages of a resource rather than of the database: the disk fills up, the database runs
out of connection slots. Under load, each trial takes the resource away for ``down_s``
and gives it back:

- *disk full* (`disk_run`): the SQLite store lives on a tiny tmpfs of the test's own
  (mounted for the run, unmounted after); a filler file takes every free byte, then is
  removed. A write that cannot be made must be refused (503, or 507 Insufficient Storage,
  problem+json with Retry-After), never acknowledged;
- *connection limit* (`connections_run`): a PostgreSQL server of the test's own with a
  small ``max_connections``; other connections (the test's) take every free slot, and
  the service's own connections are cut, so the service must connect again and cannot
  ("sorry, too many clients already"); then the hogs let go.

Meanwhile a signed write probe (a wallet top-up) is sent every ``PROBE_S`` and, with the
workload's load, judged: a 2xx (written), or a 503/507 problem with Retry-After, within
the service's request timeout plus a margin; no 500, no closed connection, no worker
exiting; and at least one refusal per trial (else the squeeze never reached the
service). ``recovery_s``: from the resource's return until a write probe is
acknowledged again (the worst trial). The checker then finds nothing acknowledged lost,
nothing applied twice, ``audit verify`` and ``audit replay`` sound.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import errno
import json
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from tests.reliability.checker import Verdict
from tests.reliability.client import Budget
from tests.reliability.history import ANSWERED, Attempt, History
from tests.reliability.outage import ANSWER_MARGIN_S, RECOVERY_MAX_S, REQUEST_TIMEOUT_S
from tests.reliability.runs import run_with_faults
from tests.reliability.service import OwnPostgres, Service
from tests.reliability.workload import Workload

PROBE_S = 0.2
REFUSALS = (503, 507)  # the store cannot take the write now: retry after Retry-After
TMPFS_SIZE = "48m"  # the seed and a full run's log fit with room; the filler takes the rest
MAX_CONNECTIONS = 20
RACERS = 8  # connection attempts at once when the service's connections are cut
RACE_S = 0.5


@dataclass(frozen=True)
class SqueezePlan:
    trials: int
    down_s: float = 4.0
    workers: int = 1
    lanes: int = 6
    load_s: tuple[float, float] = (0.5, 1.5)
    seed: int = 41


@dataclass
class Squeeze:
    """One trial: the resource taken at ``taken``, given back at ``given``; the first write
    acknowledged after that at ``healthy``."""

    taken: float
    given: float = 0.0
    healthy: float = 0.0
    probes: list[Attempt] = field(default_factory=list)

    @property
    def recovery_s(self) -> float:
        return self.healthy - self.given


async def write_probe(workload: Workload) -> Attempt:
    """One signed top-up request, one attempt; left to be asked about again (with its key)
    at the end unless acknowledged."""
    operation = workload._op("topup", "POST", "/v1/payments")
    holder, amount_vnd = f"probe-{operation.op_id}", 10_000
    workload.params[operation.op_id] = {"holder": holder, "amount_vnd": amount_vnd}
    data = json.dumps({"purpose": "wallet_topup", "purpose_id": holder, "amount_vnd": amount_vnd}).encode()
    attempt = await workload.client.once(operation, workload.signers.app, data, {})
    if not (attempt.status is not None and 200 <= attempt.status < 300):
        workload.unanswered.append((operation, workload.signers.app, data))
    return attempt


class Squeezer(abc.ABC):
    """Takes a resource away and gives it back, ``plan.trials`` times, under the load."""

    kind = "resource"

    def __init__(self, plan: SqueezePlan) -> None:
        self.plan = plan
        self.squeezes: list[Squeeze] = []
        self.worker_exits = 0

    @abc.abstractmethod
    async def take(self) -> None:
        """Take the resource away (fill the disk, hold the free connections)."""

    async def hold(self) -> None:  # noqa: B027 - an optional hook; most resources stay away by themselves
        """Called every probe while the resource is away (to keep it away)."""

    @abc.abstractmethod
    async def give(self) -> None:
        """Give the resource back."""

    async def __call__(self, service: Service, rng: random.Random, workload: Workload) -> int:
        for _ in range(self.plan.trials):
            await asyncio.sleep(rng.uniform(*self.plan.load_s))
            workers = service.worker_pids()
            squeeze = Squeeze(time.monotonic())
            await self.take()
            try:
                while time.monotonic() - squeeze.taken < self.plan.down_s:
                    squeeze.probes.append(await write_probe(workload))
                    await self.hold()
                    await asyncio.sleep(PROBE_S)
            finally:
                await self.give()
            squeeze.given = time.monotonic()
            while time.monotonic() - squeeze.given < 30:
                probe = await write_probe(workload)
                if probe.status is not None and 200 <= probe.status < 300:
                    break
                await asyncio.sleep(0.05)
            squeeze.healthy = time.monotonic()
            self.squeezes.append(squeeze)
            assert service.process is not None
            assert service.process.poll() is None, f"serve exited in a {self.kind}: {service.tail()}"
            if service.worker_pids() != workers:
                self.worker_exits += 1
        return self.plan.trials


def judge_squeezes(squeezer: Squeezer, history: History, verdict: Verdict) -> None:
    verdict.recovery_s = max((s.recovery_s for s in squeezer.squeezes), default=None)
    if verdict.recovery_s is not None and verdict.recovery_s > RECOVERY_MAX_S:
        verdict.problems.append(f"writes acknowledged again only {verdict.recovery_s:.1f} s after the {squeezer.kind}")
    if squeezer.worker_exits:
        verdict.problems.append(f"a worker exited in {squeezer.worker_exits} {squeezer.kind} trial(s)")
    limit = REQUEST_TIMEOUT_S + ANSWER_MARGIN_S
    in_window = refused = written = 0
    refusals_each = []
    for squeeze in squeezer.squeezes:
        refused_here = 0
        for operation in history.operations:
            for attempt in operation.attempts:
                if not squeeze.taken + 0.3 < attempt.started < squeeze.given:
                    continue
                in_window += 1
                status = attempt.status or 0
                if attempt.outcome != ANSWERED:
                    verdict.problems.append(f"{operation.op_id} in a {squeezer.kind}: {attempt.outcome}")
                elif 200 <= status < 300:
                    written += 1
                elif status in REFUSALS and attempt.retry_after is not None and _is_problem(attempt.body):
                    refused_here += 1
                else:
                    verdict.problems.append(f"{operation.op_id} in a {squeezer.kind}: {status} {attempt.body}")
                if attempt.ended - attempt.started > limit:
                    took = attempt.ended - attempt.started
                    verdict.problems.append(f"{operation.op_id} in a {squeezer.kind} took {took:.1f} s")
        if refused_here == 0:
            verdict.problems.append(f"a {squeezer.kind} trial that no request felt: the squeeze did not bite")
        refused += refused_here
        refusals_each.append(refused_here)
    verdict.extra |= {
        "squeeze": squeezer.kind,
        "down_s": squeezer.plan.down_s,
        "answers_in_squeezes": in_window,
        "refused_in_squeezes": refused,
        "written_in_squeezes": written,
        "refusals_each": refusals_each,
        "recovery_s_each": [round(s.recovery_s, 2) for s in squeezer.squeezes],
        "request_timeout_s": REQUEST_TIMEOUT_S,
    }


def _is_problem(body: Any) -> bool:
    return isinstance(body, dict) and "type" in body and "status" in body


# -- disk full ------------------------------------------------------------------------


class DiskFull(Squeezer):
    kind = "disk full"

    def __init__(self, plan: SqueezePlan, disk: Path) -> None:
        super().__init__(plan)
        self.filler = disk / "filler"

    async def take(self) -> None:
        await asyncio.to_thread(fill, self.filler)

    async def hold(self) -> None:
        await asyncio.to_thread(fill, self.filler)  # whatever the store freed meanwhile

    async def give(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filler.unlink()


def fill(path: Path) -> None:
    """Append to ``path`` until the file system has no byte left."""
    with path.open("ab", buffering=0) as out:
        for chunk in (1 << 20, 1 << 12, 1):
            block = b"\0" * chunk
            while True:
                try:
                    out.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break


@contextlib.contextmanager
def tmpfs(where: Path, size: str):  # type: ignore[no-untyped-def]
    """A tmpfs of ``size`` mounted at ``where`` (root only), unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        raise PermissionError(f"cannot mount a tmpfs (root is needed): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        done = subprocess.run(["umount", str(where)], capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def can_mount() -> str | None:
    """Why a tmpfs cannot be mounted here, or None."""
    if os.geteuid() != 0:
        return "a tmpfs is mounted for the disk-full suite: run as root"
    if shutil.which("mount") is None:
        return "mount(8) is not installed"
    return None


async def disk_run(suite: str, folder: Path, plan: SqueezePlan) -> Verdict:
    with tmpfs(folder / "disk", TMPFS_SIZE) as disk:
        squeezer = DiskFull(plan, disk)
        budget = Budget(request_timeout_s=REQUEST_TIMEOUT_S + 10)
        env = {"CITYSETTLE_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S)}
        verdict, history = await run_with_faults(
            suite,
            f"sqlite:///{disk / 'events.db'}",
            folder,
            plan.workers,
            squeezer,
            lanes=plan.lanes,
            seed=plan.seed,
            env=env,
            budget=budget,
        )
        judge_squeezes(squeezer, history, verdict)
        verdict.extra["tmpfs"] = TMPFS_SIZE
        return verdict


# -- the connection limit -------------------------------------------------------------


class ConnectionsTaken(Squeezer):
    kind = "connection limit"

    def __init__(self, plan: SqueezePlan, pg: OwnPostgres) -> None:
        super().__init__(plan)
        self.pg = pg
        self.hogs: list[asyncpg.Connection] = []
        self.most = 0
        self.cut: list[int] = []  # the service's connections cut, each trial

    async def _grab(self) -> None:
        """Connect until the server says it has no slot left."""
        while True:
            try:
                self.hogs.append(await asyncpg.connect(self.pg.url, timeout=5))
            except asyncpg.TooManyConnectionsError:
                break
        self.most = max(self.most, len(self.hogs))

    async def _race(self, seconds: float) -> None:
        """Several connection attempts at once, again and again for ``seconds``: each slot
        the service's cut connections free is taken before the service connects again."""
        ends = time.monotonic() + seconds

        async def grabber() -> None:
            while time.monotonic() < ends:
                try:
                    self.hogs.append(await asyncpg.connect(self.pg.url, timeout=5))
                except (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError):
                    await asyncio.sleep(0.002)

        await asyncio.gather(*(grabber() for _ in range(RACERS)))
        self.most = max(self.most, len(self.hogs))

    async def take(self) -> None:
        await self._grab()
        ours = [hog.get_server_pid() for hog in self.hogs]
        # the service's connections are cut (as a failover or an idle timeout would): it must connect again
        cut = self.hogs[0].fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND NOT pid = ANY($1::int[])",
            ours,
        )
        cut_now, _ = await asyncio.gather(cut, self._race(RACE_S))
        self.cut.append(int(cut_now))

    async def hold(self) -> None:
        await self._grab()

    async def give(self) -> None:
        hogs, self.hogs = self.hogs, []
        await asyncio.gather(*(hog.close() for hog in hogs), return_exceptions=True)


async def connections_run(suite: str, folder: Path, plan: SqueezePlan) -> Verdict:
    pg = OwnPostgres(max_connections=MAX_CONNECTIONS)
    try:
        pg.init()
        pg.start()
        squeezer = ConnectionsTaken(plan, pg)
        budget = Budget(request_timeout_s=REQUEST_TIMEOUT_S + 10)
        env = {"CITYSETTLE_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S)}
        try:
            verdict, history = await run_with_faults(
                suite, pg.url, folder, plan.workers, squeezer, lanes=plan.lanes, seed=plan.seed, env=env, budget=budget
            )
        finally:
            await squeezer.give()
        judge_squeezes(squeezer, history, verdict)
        verdict.extra |= {"max_connections": MAX_CONNECTIONS, "hogged_at_most": squeezer.most, "cut_each": squeezer.cut}
        return verdict
    finally:
        pg.remove()
