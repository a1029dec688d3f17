"""``citysettle serve``: one process, or a parent supervising N workers on one port.

With ``--workers N`` (N > 1) the parent starts N worker processes (``python -m
ops.worker``), each of which binds the same host and port with SO_REUSEPORT, so the
kernel spreads connections over them. The parent only supervises: a worker that exits is
started again (a worker that keeps dying at once — e.g. the port is taken — stops the
service with exit 1), SIGTERM or SIGINT stops every worker gracefully (SIGKILL after the
shutdown timeout). The workers share the store; one of them at a time holds the store's
leader lock and runs the projections and checkpoints (`ops.leadership`). Metrics: the
parent gives the workers one fresh PROMETHEUS_MULTIPROC_DIR, see `ops.metrics`.

Both stores take several workers: the PostgreSQL adapter is a client of a server; the
SQLite adapter commits each batch in a ``BEGIN IMMEDIATE`` transaction that reads the
chain head inside it (WAL, busy timeout), so writers in several processes serialise on
the database's lock and never reuse a position.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from aiohttp import web
from prometheus_client import multiprocess

from adapters.eventstore.checkpoints import CheckpointKeyError, CheckpointSigner
from ops.app import create_app
from ops.collector import settle_heap_after_startup
from ops.config import Config, ConfigError
from ops.logs import WORKER_ENV  # the worker's number (1..N), also in its answers' Citysettle-Worker header
from ops.metrics import MULTIPROC_DIR_ENV
from ops.stores import open_store
from ops.ticket_signing import ticket_codes, with_ticket_key

log = logging.getLogger(__name__)

WORKERS_MAX = 32
POLL_S = 0.2
FAST_FAILURE_S = 5.0  # a worker that dies sooner than this after its start failed to start
FAST_FAILURES_MAX = 5  # in a row, for one worker slot: give up (the port is taken, the config is wrong)
KILL_GRACE_S = 5.0


def parse_workers(raw: str) -> int:
    try:
        workers = int(raw)
    except ValueError:
        raise ConfigError(f"--workers must be between 1 and {WORKERS_MAX}, got {raw!r}") from None
    if not 1 <= workers <= WORKERS_MAX:
        raise ConfigError(f"--workers must be between 1 and {WORKERS_MAX}, got {workers}")
    return workers


def parse_port(host: str, port: str | None) -> int | None:
    """Check the flags before anything starts: one line naming the bad one (exit 2)."""
    number = None
    if port is not None:
        try:
            number = int(port)
        except ValueError:
            raise ConfigError(f"--port must be a number between 1 and 65535, got {port!r}") from None
        if not 1 <= number <= 65_535:
            raise ConfigError(f"--port must be between 1 and 65535, got {number}")
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(f"--host {host!r} is neither an IP address nor a name this machine resolves") from None
    return number


def preflight(config: Config) -> Config:
    """What would stop the service, checked before anything listens or any worker starts,
    each refused in one line naming what to fix (exit 2): the store (reachable, and its
    events decode with the configured cipher key), the checkpoint and ticket signing keys,
    the port. Returns the configuration to serve with: a SQLite store's development ticket
    key is made (and said) here, once, and named as the key file every worker reads."""
    asyncio.run(_open_and_close(config))
    check_listenable(config.host, config.port)  # before a development key is made (and said so)
    config = with_ticket_key(config)
    ticket_codes(config)
    if config.checkpoint_key_file is not None:
        try:
            CheckpointSigner.from_pem_file(config.checkpoint_key_file)
        except CheckpointKeyError as exc:
            raise ConfigError(
                f"CITYSETTLE_CHECKPOINT_KEY_FILE: {exc}; give the PEM file `citysettle audit keygen --key` wrote"
            ) from None
    return config


async def _open_and_close(config: Config) -> None:
    store = await open_store(config)
    await store.close()


def check_listenable(host: str, port: int) -> None:
    """Bind (and release) each address the service would listen on, as asyncio binds
    (SO_REUSEADDR) but without SO_REUSEPORT, so that a port another service holds —
    even another ``serve --workers`` — is refused instead of shared."""
    for family, kind, proto, _name, address in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise listen_error(host, port, exc) from None


def listen_error(host: str, port: int, exc: OSError) -> ConfigError:
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"port {port} on {host} is already in use; stop what listens there or choose another --port")
    where = f"cannot listen on {host} port {port}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(
            f"{where}: it is not an address of this machine; give --host one of its addresses or 0.0.0.0"
        )
    if exc.errno == errno.EACCES:
        return ConfigError(f"{where}: permission denied (ports below 1024 need privileges); choose another --port")
    return ConfigError(f"{where}: {exc.strerror or exc}")


def run_worker(config: Config, *, reuse_port: bool = False) -> None:
    """Serve in this process until SIGINT or SIGTERM."""
    install_uvloop()
    log.info("starting %r", config)
    app = create_app(config)
    index = os.environ.get(WORKER_ENV)
    if index:

        async def name_worker(_request: web.Request, response: web.StreamResponse) -> None:
            response.headers["Citysettle-Worker"] = index

        app.on_response_prepare.append(name_worker)
    settle_heap_after_startup(app)
    try:
        web.run_app(
            app,
            host=config.host,
            port=config.port,
            reuse_port=reuse_port,
            shutdown_timeout=config.shutdown_timeout_s,
            keepalive_timeout=config.read_timeout_s,  # also bounds the wait for a request's headers
            print=None,
            access_log=None,  # its request line has the query string; ops.access_log writes ours
        )
    except OSError as exc:  # taken since the preflight check (another process was quicker)
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        raise listen_error(config.host, config.port, exc) from None


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # uvloop does not build on every platform; asyncio's loop works too
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def serve(config: Config, workers: int) -> int:
    config = preflight(config)
    if workers == 1:
        run_worker(config)
        return 0
    with (
        tempfile.TemporaryDirectory(prefix="citysettle-metrics-") as metrics_dir,
        tempfile.TemporaryDirectory(prefix="citysettle-keys-") as key_dir,
    ):
        if config.display_key_file is None:  # the workers must agree on the display links' key
            key_file = Path(key_dir) / "display.key"
            key_file.touch(mode=0o600)
            key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)))
            config = config.with_overrides(display_key_file=key_file)
        if config.session_key_file is None:
            # one desk session key for every worker of this run (a cookie works on any of them)
            key = Path(key_dir) / "session.key"
            key.write_text(base64.b64encode(secrets.token_bytes(32)).decode(), encoding="ascii")
            key.chmod(0o600)
            config = replace(config, session_key_file=key)
        return Supervisor(config, workers, metrics_dir).run()


@dataclass
class _Slot:
    index: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    fast_failures: int = 0


@dataclass
class Supervisor:
    config: Config
    workers: int
    metrics_dir: str
    stopping: bool = False
    slots: list[_Slot] = field(default_factory=list)

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.slots = [_Slot(i + 1) for i in range(self.workers)]
        log.info("starting %d workers on %s:%d", self.workers, self.config.host, self.config.port)
        for slot in self.slots:
            self._start(slot)
        code = 0
        while not self.stopping:
            time.sleep(POLL_S)
            for slot in self.slots:
                if not self.stopping and not self._keep(slot):
                    code, self.stopping = 1, True
        self._stop_all()
        return code

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _env(self, slot: _Slot) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                MULTIPROC_DIR_ENV: self.metrics_dir,
                WORKER_ENV: str(slot.index),
                # the resolved settings, in the environment rather than on the command line (ps shows argv)
                "CITYSETTLE_STORE": self.config.store_url,
                "CITYSETTLE_HOST": self.config.host,
                "CITYSETTLE_PORT": str(self.config.port),
            }
        )
        if self.config.display_key_file is not None:
            env["CITYSETTLE_DISPLAY_KEY_FILE"] = str(self.config.display_key_file)
        if self.config.session_key_file is not None:
            env["CITYSETTLE_SESSION_KEY_FILE"] = str(self.config.session_key_file)
        if self.config.ticket_key_file is not None:  # the one the preflight resolved
            env["CITYSETTLE_TICKET_KEY_FILE"] = str(self.config.ticket_key_file)
        return env

    def _start(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen([sys.executable, "-m", "ops.worker"], env=self._env(slot))
        slot.started = time.monotonic()
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    def _keep(self, slot: _Slot) -> bool:
        """Restart the slot's worker if it exited; False when it keeps failing to start."""
        assert slot.process is not None
        status = slot.process.poll()
        if status is None:
            return True
        multiprocess.mark_process_dead(slot.process.pid, self.metrics_dir)  # type: ignore[no-untyped-call]
        lived_s = time.monotonic() - slot.started
        slot.fast_failures = slot.fast_failures + 1 if lived_s < FAST_FAILURE_S else 0
        log.error("worker %d (pid %d) exited with %d after %.1f s", slot.index, slot.process.pid, status, lived_s)
        if slot.fast_failures >= FAST_FAILURES_MAX:
            print(
                f"citysettle: worker {slot.index} failed {slot.fast_failures} times at start; stopping (see its log)",
                file=sys.stderr,
            )
            return False
        self._start(slot)
        return True

    def _stop_all(self) -> None:
        live = [s.process for s in self.slots if s.process is not None and s.process.poll() is None]
        for process in live:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.shutdown_timeout_s + KILL_GRACE_S
        for process in live:
            try:
                process.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                log.error("worker pid %d did not stop in time; killing it", process.pid)
                process.kill()
                process.wait()
        for slot in self.slots:
            if slot.process is not None:
                multiprocess.mark_process_dead(slot.process.pid, self.metrics_dir)  # type: ignore[no-untyped-call]
        log.info("all workers stopped")
