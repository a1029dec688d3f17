"""The load generator of the HTTP benchmarks: pre-encoded HTTP/1.1 requests over keep-alive
connections, as cheap per request as Python on uvloop gets, so that the generator takes
as little as possible of the cores it shares with the service (its own CPU time is
measured and reported with every run).

- closed loop (``rate`` None): each connection sends its next request as soon as the
  answer to the last one arrived; the throughput the service sustains;
- open loop (``rate`` given): request i is due ``i / rate`` seconds after the start and
  its latency counts from then, so a server (or a generator) that falls behind is not
  hidden (no coordinated omission); enough connections are opened that a due request
  finds a free one unless the service holds them all.

Answers must carry a Content-Length (aiohttp's do, except streams, which are not
benchmarked). A request is bytes ready for the wire: `encode_request`.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit


def encode_request(method: str, url: str, headers: dict[str, str], body: bytes) -> bytes:
    """One request as it goes on the wire (Host from the URL, as the signature covers it)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class AnswerError(Exception):
    """The server answered something this generator cannot read (no Content-Length)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionResetError("the server closed the connection")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            waiter.set_exception(AnswerError(bytes(self._buffer[:end]).decode("latin-1")))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else len(head)])
        total = end + 4 + length
        if len(self._buffer) < total:
            return
        status = int(self._buffer[9:12])
        body = bytes(self._buffer[end + 4 : total])
        del self._buffer[:total]
        waiter.set_result((status, body))

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._lost is not None:
            raise self._lost
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._waiter


@dataclass
class Outcome:
    requests: int
    elapsed_s: float
    latencies_s: list[float]
    statuses: dict[int, int]
    ok_latencies_s: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_s)
        ok = sorted(self.ok_latencies_s)
        ok_count = len(ok)
        return {
            "requests": self.requests,
            "elapsed_s": self.elapsed_s,
            "per_s": self.requests / self.elapsed_s,
            "ok_per_s": ok_count / self.elapsed_s,
            "p50_ms": _quantile(lat, 0.5) * 1000,
            "p99_ms": _quantile(lat, 0.99) * 1000,
            "max_ms": (lat[-1] if lat else 0.0) * 1000,
            "ok_p50_ms": _quantile(ok, 0.5) * 1000,
            "ok_p99_ms": _quantile(ok, 0.99) * 1000,
            "statuses": self.statuses,
            "generator_cpu_s": self.cpu_s,
            "generator_cpu_us_per_request": self.cpu_s / self.requests * 1e6 if self.requests else 0.0,
        }


def _quantile(values: Sequence[float], q: float) -> float:
    return values[min(int(len(values) * q), len(values) - 1)] if values else 0.0


async def drive(
    host: str,
    port: int,
    requests: Sequence[bytes],
    connections: int,
    rate: float | None = None,
    keep_bodies: bool = False,
) -> Outcome:
    loop = asyncio.get_running_loop()
    opened = [(await loop.create_connection(_Connection, host, port))[1] for _ in range(connections)]
    latencies: list[float] = []
    ok: list[float] = []
    statuses: dict[int, int] = {}
    bodies: list[bytes] = []
    queue = iter(range(len(requests)))
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()

    async def worker(conn: _Connection) -> None:
        for index in queue:
            if rate is None:
                due = time.perf_counter()
            else:
                due = started + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            status, body = await conn.exchange(requests[index])
            latency = time.perf_counter() - due
            latencies.append(latency)
            statuses[status] = statuses.get(status, 0) + 1
            if status < 300:
                ok.append(latency)
            if keep_bodies:
                bodies.append(body)

    try:
        await asyncio.gather(*(worker(c) for c in opened))
    finally:
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        for conn in opened:
            if conn.transport is not None:
                conn.transport.close()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return Outcome(len(requests), elapsed, latencies, statuses, ok, bodies, cpu)


def accepted_events(bodies: Sequence[bytes]) -> int:
    """What the device batches' answers say was recorded."""
    return sum(int(json.loads(b).get("accepted", 0)) for b in bodies if b)
