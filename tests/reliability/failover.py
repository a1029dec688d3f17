"""Failover: a standby takes over from a primary that was SIGKILLed under signed load.

The test's own two PostgreSQL servers (`OwnPostgres`, temporary folders, own ports; the
machine's shared server is never touched):

- the *primary*, ``initdb``, started with ``synchronous_standby_names`` naming the standby,
  so that no commit is acknowledged before the standby has it;
- the *standby*, a ``pg_basebackup -R`` of the primary, streaming from it.

The run (`failover_run`): ``citysettle serve`` on the primary under the reliability
workload; meanwhile the auditor's commands read the standby, read-only (`StandbyReads`:
``export events``, ``audit verify``, ``audit replay`` with ``--store`` pointing at it);
then every process of the primary is SIGKILLed, the standby promoted (``pg_ctl promote``),
the service stopped and started again with ``--store`` naming the promoted standby, as
docs/OPERATIONS.md ("Failover to the standby") tells an operator. The load goes on
throughout, the clients retrying with the same keys. Then the usual checks
(`runs.run_with_faults`, on the promoted standby): every acknowledged operation is in the
log exactly once, the ledger balances, ``audit verify`` and ``audit replay`` pass; and the
service appended after the takeover (the head moved past where the standby took over).

Both servers run with ``fsync=off`` like every throwaway server of these tests: the
SIGKILL is of the primary's processes, not of the machine, so what the standby received
is in its operating system's hands either way. What is tested is that synchronous
replication acknowledges nothing the standby lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from ops.cli.audit import EXIT_BEHIND
from tests.reliability.checker import Verdict
from tests.reliability.client import Budget
from tests.reliability.outage import postgres_pids
from tests.reliability.runs import run_with_faults
from tests.reliability.service import OwnPostgres, Service, _pg_binary
from tests.reliability.workload import Workload
from tests.support.cli import ROOT

STANDBY_NAME = "citysettle_standby"
SYNC_WAIT_S = 60.0  # for the standby to stream synchronously, for the promotion to end


@dataclass(frozen=True)
class FailoverPlan:
    load_before_s: float = 3.0  # load on the primary before the standby is read
    load_after_reads_s: float = 1.5  # more load before the primary is killed
    load_after_s: float = 2.0  # load on the promoted standby before the run ends
    workers: int = 2
    lanes: int = 6
    seed: int = 21


@dataclass
class StandbyReads:
    """What the auditor's commands said when pointed at the standby."""

    export_exit: int | None = None
    exported_events: int = 0
    verify_exit: int | None = None
    verify_report: dict[str, Any] = field(default_factory=dict)
    replay_exit: int | None = None
    replay_report: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class ReplicatedPostgres:
    """A primary and a synchronous standby of the test's own."""

    def __init__(self) -> None:
        self.primary = OwnPostgres()
        self.standby = OwnPostgres()

    def start(self) -> None:
        self.primary.init()
        self.primary.start(f"-c synchronous_standby_names={STANDBY_NAME} -c synchronous_commit=on")
        self.standby.prepare()
        done = self.primary._run(
            _pg_binary("pg_basebackup"),
            "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "citysettle",
            "-D", str(self.standby.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        assert done.returncode == 0, f"pg_basebackup failed: {done.stderr[-2000:]}"
        # -R wrote standby.signal and a primary_conninfo; name the standby so that the
        # primary's synchronous_standby_names matches it (the last setting wins)
        conninfo = f"host=127.0.0.1 port={self.primary.port} user=citysettle application_name={STANDBY_NAME}"
        with (self.standby.data / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"primary_conninfo = '{conninfo}'\n")
        self.standby.start()

    async def until_synchronous(self) -> None:
        deadline = time.monotonic() + SYNC_WAIT_S
        conn = await asyncpg.connect(self.primary.url)
        try:
            while time.monotonic() < deadline:
                states = await conn.fetch("SELECT application_name, sync_state FROM pg_stat_replication")
                if any(r["application_name"] == STANDBY_NAME and r["sync_state"] == "sync" for r in states):
                    return
                await asyncio.sleep(0.1)
        finally:
            await conn.close()
        raise AssertionError(f"the standby did not stream synchronously in {SYNC_WAIT_S} s: {self.standby.log_tail()}")

    def kill_primary(self) -> list[int]:
        """SIGKILL the primary's postmaster and every one of its children at once."""
        pids = postgres_pids(self.primary)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    async def promote(self) -> int:
        """``pg_ctl promote`` the standby; the head position it took over at."""
        done = await asyncio.to_thread(
            self.standby._run, _pg_binary("pg_ctl"), "-D", str(self.standby.data), "-w", "promote"
        )
        assert done.returncode == 0, f"pg_ctl promote failed: {done.stderr[-2000:]}{self.standby.log_tail()}"
        conn = await asyncpg.connect(self.standby.url)
        try:
            deadline = time.monotonic() + SYNC_WAIT_S
            while await conn.fetchval("SELECT pg_is_in_recovery()"):
                assert time.monotonic() < deadline, "the promoted standby stays in recovery"
                await asyncio.sleep(0.1)
            return int(await conn.fetchval("SELECT position FROM chain_head WHERE id = 1"))
        finally:
            await conn.close()

    def remove(self) -> None:
        for pid in self._leftover_primary():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.primary.remove()
        self.standby.remove()

    def _leftover_primary(self) -> list[int]:
        try:
            return postgres_pids(self.primary)
        except (OSError, ValueError, IndexError):
            return []


def citysettle(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``citysettle`` command as an auditor runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )


async def read_standby(url: str, keyring: Path) -> StandbyReads:
    """``export events``, ``audit verify``, ``audit replay`` with ``--store`` at the standby,
    at once (the standby streams meanwhile: each sees the log as far as it got)."""
    reads = StandbyReads()
    export, verify, replay = await asyncio.gather(
        asyncio.to_thread(citysettle, "export", "events", "--store", url),
        asyncio.to_thread(citysettle, "audit", "verify", "--store", url, "--keyring", str(keyring)),
        asyncio.to_thread(citysettle, "audit", "replay", "--store", url),
    )
    reads.export_exit = export.returncode
    reads.exported_events = len(export.stdout.splitlines())
    reads.verify_exit = verify.returncode
    reads.replay_exit = replay.returncode
    for name, done in (("export events", export), ("audit verify", verify), ("audit replay", replay)):
        if "Traceback" in done.stderr or "read-only" in done.stderr:
            reads.errors.append(f"{name}: {done.stderr[-1500:]}")
    with contextlib.suppress(ValueError, IndexError):
        reads.verify_report = json.loads(verify.stdout.splitlines()[-1])
    with contextlib.suppress(ValueError, IndexError):
        reads.replay_report = json.loads(replay.stdout.splitlines()[-1])
    if reads.export_exit != 0 or reads.verify_exit != 0 or reads.replay_exit not in (0, EXIT_BEHIND):
        reads.errors.append(
            f"exits: export {reads.export_exit}, verify {reads.verify_exit}, replay {reads.replay_exit}:"
            f" {export.stderr[-500:]} {verify.stderr[-500:]} {replay.stderr[-500:]}"
        )
    return reads


class Failover:
    """The fault of the run: read the standby, kill the primary, promote, repoint serve."""

    def __init__(self, servers: ReplicatedPostgres, plan: FailoverPlan, keyring: Path) -> None:
        self.servers = servers
        self.keyring = keyring  # the run's checkpoint keyring (`runs.checkpoint_env`)
        self.plan = plan
        self.reads = StandbyReads()
        self.head_at_takeover = 0
        self.acknowledged_before_kill = 0
        self.takeover_s = 0.0  # primary killed to the service ready on the promoted standby

    async def __call__(self, service: Service, _rng: Any, workload: Workload) -> int:
        await asyncio.sleep(self.plan.load_before_s)
        self.reads = await read_standby(self.servers.standby.url, self.keyring)
        await asyncio.sleep(self.plan.load_after_reads_s)
        self.acknowledged_before_kill = len([o for o in workload.client.history.acknowledged() if o.kind != "setup"])
        killed = time.monotonic()
        self.servers.kill_primary()
        self.head_at_takeover = await self.servers.promote()
        await asyncio.to_thread(stop_or_kill, service)
        service.store_url = self.servers.standby.url  # the operator's new CITYSETTLE_STORE / --store
        service.start()
        await service.until_ready()
        self.takeover_s = time.monotonic() - killed
        await asyncio.sleep(self.plan.load_after_s)
        return 1


def stop_or_kill(service: Service) -> None:
    """SIGTERM, as an operator stops it; SIGKILL after the service's shutdown timeout and a margin."""
    assert service.process is not None
    service.process.send_signal(signal.SIGTERM)
    try:
        service.process.wait(20)
    except subprocess.TimeoutExpired:
        service.kill_all()


async def head_of(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT position FROM chain_head WHERE id = 1"))
    finally:
        await conn.close()


def judge_failover(failover: Failover, final_head: int, verdict: Verdict) -> None:
    reads = failover.reads
    verdict.problems.extend(f"standby read: {e}" for e in reads.errors)
    if reads.exported_events == 0:
        verdict.problems.append("export events from the standby wrote no event")
    if reads.verify_report.get("checkpoints_verified") is not True:
        verdict.problems.append(f"audit verify on the standby did not verify the checkpoints: {reads.verify_report}")
    if final_head <= failover.head_at_takeover:
        verdict.problems.append(
            f"the service appended nothing after the takeover"
            f" (head {final_head}, took over at {failover.head_at_takeover})"
        )
    if failover.acknowledged_before_kill == 0:
        verdict.problems.append("nothing was acknowledged before the primary was killed")
    verdict.extra |= {
        "standby_export_events": reads.exported_events,
        "standby_verify_exit": reads.verify_exit,
        "standby_verify": reads.verify_report,
        "standby_replay_exit": reads.replay_exit,
        "standby_replay_status": reads.replay_report.get("status"),
        "acknowledged_before_kill": failover.acknowledged_before_kill,
        "head_at_takeover": failover.head_at_takeover,
        "head_at_end": final_head,
        "takeover_s": round(failover.takeover_s, 2),
    }


async def failover_run(suite: str, folder: Path, plan: FailoverPlan) -> Verdict:
    servers = ReplicatedPostgres()
    try:
        await asyncio.to_thread(servers.start)
        await servers.until_synchronous()
        failover = Failover(servers, plan, folder / "keyring.json")
        verdict, _history = await run_with_faults(
            suite,
            servers.primary.url,
            folder,
            plan.workers,
            failover,
            lanes=plan.lanes,
            seed=plan.seed,
            budget=Budget(),
        )
        judge_failover(failover, await head_of(servers.standby.url), verdict)
        return verdict
    finally:
        servers.remove()
