"""Where a payment request's server-side CPU goes (issue 10): py-spy on the workers of
``citysettle serve --workers 2`` on PostgreSQL while `bench.http`'s pre-signed
``POST /v1/payments`` run through it in a closed loop.

The workers' CPU per request is measured twice in the same run: once without the sampler
(the figure that counts) and once while py-spy samples both workers (``--native``, so that
asyncpg's and aiohttp's compiled parts are named too). Each sample of the event loop's thread
is put in a part (`PARTS`) by the frame nearest its leaf that names one; the parts' shares
of the samples times the CPU per request give µs per part.

Run: ``.venv/bin/python bench/profile_http.py --port P`` (PostgreSQL at ``--pg-url``; a
throwaway database). Prints the table and writes ``bench/results/http_profile.json``;
``--flame FILE`` keeps py-spy's collapsed stacks.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/http.py

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bench.http import DEFAULT_PG_URL, _admin, load, payment_requests, payment_service, uptime

# (part, markers), walked from a sample's leaf frame towards its root: the first frame that
# contains a marker names the part. Frames of libraries that serve every part (asyncpg's
# protocol, the socket calls under it, http_sf) are not markers, so a statement's send is
# the part of whoever awaited it.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("access log line (logging, JSON, write)", ("(logging/", "pythonjsonlogger", "ops/logs.py")),
    ("metrics (prometheus multiprocess)", ("prometheus_client",)),
    ("signature: Ed25519 verify (OpenSSL)", ("_algorithms.py", "ed25519")),
    ("signature: library's parse, base and checks", ("http_message_signatures/",)),
    ("signature: our checks and key lookup", ("adapters/http/signatures.py", "adapters/http/auth.py", "_authenticate")),
    ("idempotency lookup (a read)", ("find_idempotency",)),
    (
        "append (group commit of the idempotency record)",
        ("GroupCommitter", "postgres_writer.py", "BatchedEventStore.append"),
    ),
    (
        "aggregate reads (invoice, payment; decode)",
        ("UnitOfWork.find", "UnitOfWork.prefetch", "PostgresEventStore.load"),
    ),
    (
        "background: projections, leader lock, log follower",
        ("ProjectionRunner", "Leadership", "wait_for_append", "stream_watch.py", "projections.py"),
    ),
    ("use case (domain)", ("domain/model", "domain/services/payment", "domain/services/fee")),
    ("use-case runner, idempotency record encoding", ("unit_of_work.py", "adapters/http/idempotency.py")),
    ("body decode and request key (msgspec, sha-256)", ("decode_body", "_request_key", "msgspec")),
    ("answer view (payment view, QR payload)", ("payment_views.py", "adapters/http/payments.py", "qr/")),
    ("answer encode and socket write", ("web_response.py", "http_writer.py")),
    (
        "pipeline and middlewares (routing, admission, timeout)",
        ("adapters/http/routing.py", "ops/access_log.py", "ops/health.py", "problems.py", "asyncio/timeouts.py"),
    ),
    # not "aiohttp/web.py": run_app is the root of every sample
    (
        "aiohttp: request parsing and dispatch",
        ("aiohttp/web_", "aiohttp/http_", "aiohttp/_http", "aiohttp/helpers", "aiohttp/streams", "multidict"),
    ),
)
# a sample with no frame of PARTS: PostgreSQL's answers arriving (asyncpg's protocol, on the loop)
FALLBACK = ("PostgreSQL answers: socket reads, asyncpg's parsing", ("protocol.c", "pgproto.c", "asyncpg/"))
OTHER = "event loop, socket reads and the rest"
IDLE_LEAVES = ("epoll_pwait", "epoll_wait")


def part_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in PARTS:
            if any(marker in frame for marker in markers):
                return name
    name, markers = FALLBACK
    if any(marker in frame for frame in frames for marker in markers):
        return name
    return OTHER


def breakdown(collapsed: list[Path]) -> tuple[Counter[str], int]:
    """Samples per part from py-spy's raw (collapsed) output, ``frame;frame;... count``:
    the event loop's thread only (the worker's parent watcher thread waits), without the
    samples where the loop waits for its sockets; and the number of those."""
    parts: Counter[str] = Counter()
    idle = 0
    for path in collapsed:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit() or "run_app" not in stack:
                continue
            frames = stack.split(";")
            if any(leaf in frames[-1] for leaf in IDLE_LEAVES):
                idle += int(count)
            else:
                parts[part_of(frames)] += int(count)
    return parts, idle


def sampled(pids: list[int], seconds: float, out: Path, rate: int) -> list[subprocess.Popen[bytes]]:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--native",
                "--output",
                str(out / f"{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def profile(args: argparse.Namespace, store_url: str, scratch: Path) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    with payment_service(root, store_url, scratch / "serve.log", args.port, args.invoices, args.connections) as side:
        base, data, workers, watch = side["base"], side, side["workers"], side["watch"]
        requests = payment_requests(base, data["terminal"], data["invoices"], args.requests)
        plain = load(requests, args.connections, refusals=(503,), watch=watch)
        requests = payment_requests(base, data["terminal"], data["invoices"], args.requests)  # new keys
        # py-spy attaches within a second; it stops before the load does
        spies = sampled(workers, max(2.0, plain["elapsed_s"] * 0.8), scratch, args.rate)
        spied = load(requests, args.connections, refusals=(503,), watch=watch)
        for spy in spies:
            spy.wait(60)
    files = list(scratch.glob("*.txt"))
    if args.flame:
        args.flame.write_text("".join(f.read_text(errors="replace") for f in files))
    parts, idle = breakdown(files)
    total = sum(parts.values()) or 1
    cpu = plain["cpu_us_per_request"]["workers"]
    return {
        "requests": args.requests,
        "payments_per_s": round(plain["ok_per_s"]),
        "worker_cpu_us_per_request": round(cpu),
        "postgres_cpu_us_per_request": round(plain["cpu_us_per_request"]["postgres"]),
        "generator_cpu_us_per_request": round(plain["generator_cpu_us_per_request"]),
        "worker_cpu_us_per_request_sampled": round(spied["cpu_us_per_request"]["workers"]),
        "samples": total,
        "samples_waiting_for_sockets": idle,
        "parts_us_per_request": {name: round(cpu * n / total) for name, n in parts.most_common()},
        "parts_share": {name: round(n / total, 3) for name, n in parts.most_common()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("CITYSETTLE_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--port", type=int, help="the service's port (default: a free one)")
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--flame", type=Path, help="write py-spy's collapsed stacks here")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "http_profile.json")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="citysettle-profile-http-"))
    name = f"citysettle_profile_http_{os.getpid()}"
    results: dict[str, Any] = {"uptime_before": uptime()}
    asyncio.run(_admin(args.pg_url, f'CREATE DATABASE "{name}"'))
    try:
        results.update(profile(args, f"{args.pg_url.rpartition('/')[0]}/{name}", scratch))
    finally:
        asyncio.run(_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(scratch, ignore_errors=True)
    results["uptime_after"] = uptime()
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
