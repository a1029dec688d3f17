"""Several processes: three ``citysettle serve`` processes on one PostgreSQL database, each
on its own port, under the load of `Workload`; every try of an operation goes to the
next server, and the first try of each keyed request to two servers at once.

While the load runs:

- a *follower* reads the log as a projection does (``read_log`` after the last position
  it has): every page must start right after that position, with no gap inside, so no
  follower can skip an event that commits later;
- every server's ``/readyz`` is asked which of them runs the projections: never two at
  once;
- ``takeovers`` times, the server that runs them is SIGKILLed (all its processes) and
  another one must take them over (``takeover_s``: from the kill until another says
  ``leader``); the killed one is started again.

Afterwards, besides the checker's verdict: both answers of every request sent twice at
once are the same (one of them replayed), and exactly once applied.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from ops.config import Config
from ops.stores import open_store
from tests.reliability.checker import Verdict
from tests.reliability.client import should_retry
from tests.reliability.history import History
from tests.reliability.runs import run_with_faults
from tests.reliability.service import Service
from tests.reliability.workload import Workload

TAKEOVER_MAX_S = 10.0


@dataclass
class Watch:
    gaps: list[str] = field(default_factory=list)
    followed: int = 0
    polls: int = 0
    two_leaders: int = 0
    takeover_s: list[float] = field(default_factory=list)


async def follow(store_url: str, stop: asyncio.Event, watch: Watch) -> None:
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        last = 0
        while not stop.is_set():
            records = await store.read_log(last, 1_000)
            positions = [r.position for r in records]
            if positions and positions != list(range(last + 1, last + 1 + len(positions))):
                watch.gaps.append(f"after {last}: read {positions[:5]}...")
                return
            if positions:
                last = positions[-1]
                watch.followed = last
            await asyncio.sleep(0.02)
    finally:
        await store.close()


async def roles(session: aiohttp.ClientSession, servers: list[Service]) -> dict[int, str]:
    """Each server's ``projections`` (leader or follower), of those that answer."""
    seen = {}
    for index, server in enumerate(servers):
        try:
            async with session.get(f"{server.base}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as answer:
                if answer.status == 200:
                    seen[index] = (await answer.json())["projections"]
        except (aiohttp.ClientError, OSError, TimeoutError):
            pass
    return seen


async def watch_leaders(servers: list[Service], stop: asyncio.Event, watch: Watch) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            leaders = [i for i, role in (await roles(session, servers)).items() if role == "leader"]
            watch.polls += 1
            if len(leaders) > 1:
                watch.two_leaders += 1
            await asyncio.sleep(0.1)


@dataclass
class Processes:
    folder: Path
    takeovers: int
    servers: int = 3
    watch: Watch = field(default_factory=Watch)

    async def __call__(self, first: Service, rng: random.Random, workload: Workload) -> int:
        others = []
        for n in range(2, self.servers + 1):
            (self.folder / f"server-{n}").mkdir(exist_ok=True)
            others.append(Service(first.store_url, 1, self.folder / f"server-{n}", first.env))
        servers = [first, *others]
        for server in others:
            server.start()
        for server in others:
            await server.until_ready()
        workload.client.bases = [s.base for s in servers]
        workload.client.twins = True
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(follow(first.store_url, stop, self.watch)),
            asyncio.create_task(watch_leaders(servers, stop, self.watch)),
        ]
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(self.takeovers):
                    await asyncio.sleep(rng.uniform(1.0, 2.0))
                    await self._take_over(session, servers)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            workload.client.bases = [first.base]  # the checker reads through the first
            workload.client.twins = False
        for server in others:
            server.stop()
        return self.takeovers

    async def _take_over(self, session: aiohttp.ClientSession, servers: list[Service]) -> None:
        ends = time.monotonic() + TAKEOVER_MAX_S
        while (leader := _leader(await roles(session, servers))) is None:
            assert time.monotonic() < ends, "no server runs the projections"
            await asyncio.sleep(0.1)
        killed = servers[leader]
        killed.kill_all()
        gone = time.monotonic()
        while True:
            now = _leader(await roles(session, servers))
            if now is not None and now != leader:
                break
            assert time.monotonic() - gone < TAKEOVER_MAX_S, "nobody took the projections over"
            await asyncio.sleep(0.05)
        self.watch.takeover_s.append(time.monotonic() - gone)
        killed.start()
        await killed.until_ready()


def _leader(seen: dict[int, str]) -> int | None:
    leaders = [i for i, role in seen.items() if role == "leader"]
    return leaders[0] if len(leaders) == 1 else None


def judge_processes(watch: Watch, history: History, verdict: Verdict) -> None:
    verdict.problems += [f"the follower saw a gap: {g}" for g in watch.gaps]
    if watch.two_leaders:
        verdict.problems.append(f"two servers ran the projections at once in {watch.two_leaders} polls")
    if watch.takeover_s and max(watch.takeover_s) > TAKEOVER_MAX_S:
        verdict.problems.append(f"a takeover took {max(watch.takeover_s):.1f} s")
    twins = 0
    for operation in history.operations:
        pair = operation.attempts[:2]
        if operation.key is not None and len(pair) == 2 and abs(pair[0].started - pair[1].started) <= 0.05:
            done = any(200 <= (a.status or 0) < 300 for a in pair)
            refused = [a for a in pair if 400 <= (a.status or 0) < 500 and not should_retry(a)]
            if done and refused:  # the same request, applied by one server, refused by the other
                verdict.problems.append(f"{operation.op_id}: sent to two servers at once, one refused it: {refused}")
        answers = [a for a in pair if a.status is not None and 200 <= a.status < 300]
        if operation.key is None or len(answers) < 2 or abs(answers[0].started - answers[1].started) > 0.05:
            continue  # not sent twice at once, or not both answered 2xx
        twins += 1
        if answers[0].body != answers[1].body or answers[0].status != answers[1].status:
            verdict.problems.append(f"{operation.op_id}: two servers answered the same request differently")
    verdict.extra |= {
        "servers": 3,
        "followed_through": watch.followed,
        "leader_polls": watch.polls,
        "takeover_s_each": [round(t, 2) for t in watch.takeover_s],
        "sent_twice_at_once_both_2xx": twins,
    }
    if watch.takeover_s:
        verdict.recovery_s = max(watch.takeover_s)


async def processes_run(suite: str, store_url: str, folder: Path, takeovers: int, seed: int) -> Verdict:
    processes = Processes(folder, takeovers)
    verdict, history = await run_with_faults(suite, store_url, folder, 1, processes, lanes=6, seed=seed)
    judge_processes(processes.watch, history, verdict)
    return verdict
