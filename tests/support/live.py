"""A running ``citysettle serve`` in a subprocess, and signed calls to it over real TCP."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.http.signing import RequestSigner

PORTS_ENV = "CITYSETTLE_TEST_PORTS"  # e.g. "9300-9349": servers the tests start listen only there


def free_port(env: str = PORTS_ENV) -> int:
    """A port free now: any (the kernel's choice), or one of the range in ``env`` (``LOW-HIGH``)
    where several people share a machine and each keeps to a range."""
    wanted = os.environ.get(env, "").strip()
    if not wanted:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    low, _, high = wanted.partition("-")
    ports = list(range(int(low), int(high or low) + 1))
    random.shuffle(ports)  # two tests at once rarely try the same one
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {env}={wanted}")


@contextmanager
def serving(
    store_url: str, workers: int, log: Path, port: int | None = None, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``citysettle serve --workers N`` on ``port`` (default: a free one); stopped with SIGTERM
    (SIGKILL if stuck). The log is appended to, so a service started again keeps one log."""
    port = port or free_port()
    command = [sys.executable, "-m", "ops.cli", "serve", "--store", store_url, "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env={**os.environ, "CITYSETTLE_CLIENT_CACHE_TTL_S": "0", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class LiveApi:
    session: aiohttp.ClientSession
    base: str

    async def call(
        self, signer: RequestSigner | None, method: str, path: str, body: Any = None
    ) -> aiohttp.ClientResponse:
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data else {}
        if method in ("POST", "PUT"):
            headers["Idempotency-Key"] = str(uuid.uuid4())
        url = self.base + path
        if signer is not None:
            headers = signer.sign(method, url, data, headers)
        response = await self.session.request(method, url, data=data or None, headers=headers)
        await response.read()
        return response

    async def json(self, signer: RequestSigner | None, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(signer, method, path, body)
        assert response.status < 300, f"{method} {path}: {response.status} {await response.text()}"
        return await response.json()


def deadline(seconds: float) -> float:
    return time.monotonic() + seconds
