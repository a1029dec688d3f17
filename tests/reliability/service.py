"""The processes a reliability run breaks: ``citysettle serve`` (SIGKILLed and started
again on the same port) and, for the outage, a PostgreSQL server of the test's own.

The PostgreSQL instance is made with ``initdb`` in the test's temporary folder and
listens on its own port on 127.0.0.1 only; the machine's shared server is never
touched. PostgreSQL refuses to run as root, so when the tests run as root the instance
runs as the ``postgres`` system user (``runuser``).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.support.cli import ROOT
from tests.support.live import free_port

PG_PORTS_ENV = "CITYSETTLE_TEST_PG_PORTS"  # e.g. "55300-55349": where throwaway PostgreSQL servers listen


class Service:
    """``citysettle serve --workers N`` in its own process group, on a fixed port."""

    def __init__(self, store_url: str, workers: int, folder: Path, env: dict[str, str] | None = None) -> None:
        self.store_url = store_url
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.log = folder / "serve.log"
        self.tmp = folder / "tmp"  # metrics folders of SIGKILLed parents stay in here
        self.tmp.mkdir(exist_ok=True)
        self.env = {**os.environ, "CITYSETTLE_CLIENT_CACHE_TTL_S": "0", "TMPDIR": str(self.tmp), **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.ready_after_s: list[float] = []  # each wait in `until_ready`: start (or fault) to ready
        self.workers_killed = 0

    def start(self) -> None:
        command = [sys.executable, "-m", "ops.cli", "serve", "--store", self.store_url, "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, "--workers", str(self.workers)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one SIGKILL reaches every worker
            )
        self.starts += 1

    async def until_ready(self, seconds: float = 60.0) -> float:
        """Poll /readyz until it says ready; the seconds it took."""
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            while time.monotonic() - started < seconds:
                try:
                    async with session.get(f"{self.base}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as answer:
                        if answer.status == 200:
                            self.ready_after_s.append(time.monotonic() - started)
                            return self.ready_after_s[-1]
                except (aiohttp.ClientError, OSError, TimeoutError):
                    pass
                assert self.process is not None
                assert self.process.poll() is None, f"serve exited: {self.tail()}"
                await asyncio.sleep(0.1)
        raise AssertionError(f"serve not ready after {seconds} s: {self.tail()}")

    def worker_pids(self) -> list[int]:
        """The parent's children (the workers), from /proc."""
        assert self.process is not None
        parent = self.process.pid
        pids = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                pids.append(int(stat.split("/")[2]))
        return sorted(pids)

    def kill_all(self) -> None:
        """SIGKILL to the parent and every worker at once."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill_worker(self, rng: random.Random, older_than_s: float = 0.0) -> int | None:
        """SIGKILL one worker that has run at least ``older_than_s``; the parent starts it
        again. None when there is none."""
        pids = [p for p in self.worker_pids() if _age_s(p) >= older_than_s]
        if not pids:
            return None
        pid = rng.choice(pids)
        os.kill(pid, signal.SIGKILL)
        self.workers_killed += 1
        return pid

    def stop(self) -> int:
        """SIGTERM, as an operator stops it; SIGKILL if it does not stop in 30 s."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise AssertionError(f"serve did not stop on SIGTERM: {self.tail()}") from None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _age_s(pid: int) -> float:
    """How long the process has run (its start time in /proc, in clock ticks since boot)."""
    try:
        started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0
    return uptime - started / os.sysconf("SC_CLK_TCK")


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:]), None)
    if found is None:
        raise FileNotFoundError(f"{name} not found: PostgreSQL's server programs are needed (apt install postgresql)")
    return found


class OwnPostgres:
    """A throwaway PostgreSQL server: initdb into a fresh temporary folder (removed by
    `remove`), its own port, trust auth."""

    def __init__(self, max_connections: int = 40) -> None:
        self.max_connections = max_connections
        self.folder = Path(tempfile.mkdtemp(prefix="citysettle-pg-"))
        self.data = self.folder / "pgdata"
        self.sockets = self.folder / "pgsock"
        self.port = free_port(PG_PORTS_ENV)
        self.url = f"postgresql://citysettle@127.0.0.1:{self.port}/postgres"
        self.as_root = os.geteuid() == 0

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, check=False, timeout=120)

    def prepare(self) -> None:
        """The folders, owned by the user the server runs as (before initdb or a base backup)."""
        self.sockets.mkdir(exist_ok=True)
        if self.as_root:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.sockets, "postgres")

    def init(self) -> None:
        self.prepare()
        done = self._run(
            _pg_binary("initdb"), "-D", str(self.data), "-U", "citysettle", "--auth=trust", "--no-sync", "-E", "UTF8"
        )
        assert done.returncode == 0, f"initdb failed: {done.stderr[-2000:]}"

    def start(self, extra_options: str = "") -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} -c fsync=off"
            f" -c max_connections={self.max_connections}"
        )
        options = f"{options} {extra_options}".strip()
        done = self._run(
            _pg_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "pg.log"), "-w", "start"
        )
        assert done.returncode == 0, f"pg_ctl start failed: {done.stderr[-2000:]}{self.log_tail()}"

    def stop(self, mode: str = "fast") -> None:
        done = self._run(_pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        assert done.returncode == 0, f"pg_ctl stop failed: {done.stderr[-2000:]}"

    def running(self) -> bool:
        return self._run(_pg_binary("pg_ctl"), "-D", str(self.data), "status").returncode == 0

    def remove(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return (self.folder / "pg.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""
