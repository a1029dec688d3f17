"""Reliability runs: the load, the faults, and the checker's verdict.

`crash_run`: the workload against ``citysettle serve``; at random moments every process
of the service is SIGKILLed and the service started again (with several workers, now
and then only one worker is killed, which its parent restarts); the clients retry with
the same keys throughout. `tests.reliability.outage` takes the database away instead.
Both end the same way: the load stops, every operation left unanswered is asked about
again, and the checker compares the final state with the reference model.

How big a run is comes from `Plan`: the fast plans run in ``make test``, the full ones
in ``make reliability`` (``CITYSETTLE_RELIABILITY=full``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from adapters.eventstore.checkpoints import write_new_key
from tests.reliability.checker import (
    Reader,
    Verdict,
    build_model,
    caught_up,
    check_api,
    check_audit,
    check_log,
    read_log,
)
from tests.reliability.client import Budget, ReliableClient
from tests.reliability.history import TIMEOUT, UNREACHABLE, History
from tests.reliability.service import Service
from tests.reliability.workload import Workload, seed_store

MODE_ENV = "CITYSETTLE_RELIABILITY"  # "full" for make reliability; fast otherwise
OUT_ENV = "CITYSETTLE_RELIABILITY_OUT"  # a folder: each suite's verdict as <suite>.json
FAST_FAILURE_S = 6.0  # the supervisor counts a worker that dies sooner after its start as failing to start


def full() -> bool:
    return os.environ.get(MODE_ENV, "") == "full"


@dataclass(frozen=True)
class Plan:
    kills: int
    workers: int
    lanes: int = 6
    load_s: tuple[float, float] = (0.3, 1.5)  # load between the service being ready and the next kill
    while_starting: float = 0.2  # share of kills made before the restarted service is ready
    one_worker: float = 0.3  # with several workers: share of kills that take one worker only
    # instead of chance: "w" kills one worker, "a" every process, one letter per kill
    pattern: str | None = None
    seed: int = 1


def checkpoint_env(folder: Path) -> tuple[dict[str, str], Path]:
    """A checkpoint signing key for the run (checkpoints every second) and its keyring."""
    key, keyring = folder / "checkpoint.pem", folder / "keyring.json"
    write_new_key(key, keyring)  # what citysettle audit keygen does
    env = {"CITYSETTLE_CHECKPOINT_KEY_FILE": str(key), "CITYSETTLE_CHECKPOINT_INTERVAL_S": "1"}
    return env, keyring


Faults = Callable[[Service, random.Random, Workload], Awaitable[int]]
"""Breaks things while the load runs; returns the number of trials (kills, outages)."""


async def run_with_faults(
    suite: str,
    store_url: str,
    folder: Path,
    workers: int,
    faults: Faults,
    *,
    lanes: int,
    seed: int,
    env: dict[str, str] | None = None,
    budget: Budget | None = None,
) -> tuple[Verdict, History]:
    checkpoints, keyring = checkpoint_env(folder)
    signers = await seed_store(store_url)
    service = Service(store_url, workers, folder, {**checkpoints, **(env or {})})
    service.start()
    history = History()
    verdict = Verdict(suite)
    rng = random.Random(seed)
    try:
        await service.until_ready()
        connector = aiohttp.TCPConnector(limit=lanes * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = ReliableClient(session, service.base, history, budget or Budget())
            workload = Workload(client, signers, seed)
            await workload.register_payees()
            load = asyncio.create_task(workload.run(lanes, stories=100_000))
            try:
                verdict.trials = await faults(service, rng, workload)
                await asyncio.sleep(1.0)  # some load on the healthy service at the end
            finally:
                workload.stop.set()
                client.stopping = True
                await load
            await service.until_ready()
            await workload.settle_unanswered()
            reader = Reader(session, service.base)
            model = build_model(history, workload.params, verdict)
            # the store the service uses now: a failover points it at another one
            await caught_up(reader, signers, service.store_url)
            await check_api(reader, signers, model, verdict)
        assert service.stop() == 0, f"serve did not stop cleanly: {service.tail()}"
        check_log(history, workload.params, model, await read_log(service.store_url), verdict)
        await check_audit(service.store_url, keyring, verdict)
    except BaseException:
        history.dump(folder / "history.jsonl")
        raise
    finally:
        if service.process is not None and service.process.poll() is None:
            service.kill_all()
    verdict.acknowledged = len([o for o in history.acknowledged() if o.kind != "setup"])
    verdict.attempts = history.attempts()
    verdict.timeouts = history.count(TIMEOUT)
    verdict.unreachable = history.count(UNREACHABLE)
    verdict.statuses = history.statuses()
    verdict.extra["refusals"] = history.refusals()
    verdict.extra["restarts_of_every_process"] = service.starts - 1
    verdict.extra["workers_killed_alone"] = service.workers_killed
    if service.starts > 1:  # how long the restarted service took to be ready (the first wait: its first start)
        verdict.extra["ready_after_restart_s_max"] = round(max(service.ready_after_s[1:]), 2)
    if 500 in verdict.statuses:
        verdict.problems.append(f"{verdict.statuses[500]} answers were 500 (see {service.log})")
    if not verdict.ok:
        history.dump(folder / "history.jsonl")
    return verdict, history


async def kill_one_worker(service: Service, rng: random.Random) -> bool:
    """SIGKILL one worker that has run long enough (one killed young would count, for its
    parent, as failing to start); waits for one at most that long."""
    for _ in range(int(FAST_FAILURE_S / 0.2) + 1):
        if service.kill_worker(rng, older_than_s=FAST_FAILURE_S) is not None:
            return True
        await asyncio.sleep(0.2)
    return False


def kill_faults(plan: Plan) -> Faults:
    async def faults(service: Service, rng: random.Random, _workload: Workload) -> int:
        for n in range(plan.kills):
            await asyncio.sleep(rng.uniform(*plan.load_s))
            if plan.pattern is not None:
                one = plan.pattern[n % len(plan.pattern)] == "w"
            else:
                one = plan.workers > 1 and rng.random() < plan.one_worker
            if one and await kill_one_worker(service, rng):
                continue
            service.kill_all()
            service.start()
            if rng.random() >= plan.while_starting:
                await service.until_ready()
        return plan.kills

    return faults


async def crash_run(suite: str, store_url: str, folder: Path, plan: Plan) -> Verdict:
    verdict, _ = await run_with_faults(
        suite, store_url, folder, plan.workers, kill_faults(plan), lanes=plan.lanes, seed=plan.seed
    )
    return verdict


def writers() -> int:
    return 100 if full() else 20


async def contention_run(suite: str, store_url: str, folder: Path, workers: int, seed: int) -> Verdict:
    """`writers()` concurrent writers on one wallet, one payment and one parking session
    (`Workload.contend`), through ``workers`` processes. Every conflict the service could
    not resolve within its bounded retries must be a 409 with Retry-After (the clients
    retry it); the refusals of a session already ended are final 409s without."""

    async def contend(_service: Service, _rng: random.Random, workload: Workload) -> int:
        return await workload.contend(writers())

    verdict, history = await run_with_faults(suite, store_url, folder, workers, contend, lanes=0, seed=seed)
    retried = refused = 0
    for operation in history.operations:
        for attempt in operation.attempts:
            if attempt.status != 409:
                continue
            kind = str(attempt.body.get("type", "")) if isinstance(attempt.body, dict) else ""
            if kind.endswith("/invalid-transition") and operation.kind == "session_end":
                refused += 1
            elif attempt.retry_after is None:
                verdict.problems.append(f"{operation.op_id}: 409 without Retry-After: {attempt.body}")
            else:
                retried += 1
    ended = history.acknowledged("session_end")
    if len(ended) != 1:
        verdict.problems.append(f"{len(ended)} of {writers()} concurrent ends of one session acknowledged, not 1")
    verdict.extra |= {"writers": writers(), "conflicts_retried": retried, "ends_refused": refused}
    return verdict


def record(verdict: Verdict, not_modelled: tuple[str, ...] = ()) -> None:
    """Keep the suite's verdict for the report (`tests.reliability.report`); the columns
    in ``not_modelled`` are not known to the suite (no reference model): shown as "-"."""
    out = os.environ.get(OUT_ENV)
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        summary = verdict.summary() | dict.fromkeys(not_modelled)
        (Path(out) / f"{verdict.suite}.json").write_text(json.dumps(summary, indent=2) + "\n")


def assert_sound(verdict: Verdict) -> None:
    record(verdict)
    assert verdict.ok, "\n".join(verdict.problems[:30])
    assert (verdict.lost, verdict.applied_twice, verdict.imbalance_vnd) == (0, 0, 0)
    assert verdict.acknowledged > 0
