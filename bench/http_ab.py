"""Interleaved A/B of ``POST /v1/payments`` (issue 10): the code of a baseline commit and
this checkout, each as ``citysettle serve --workers 2`` on its own PostgreSQL database,
both running at once, measured in alternating rounds (A, B, A, B, ...) with the same
pre-signed closed-loop load of `bench.http`, so that the shared machine's load falls on
both alike. Per round: payments per second, the workers' and their PostgreSQL backends'
CPU per request; then the median of each side and the ratio B/A of the medians, with the
spread of the per-round ratios.

Run: ``.venv/bin/python bench/http_ab.py --baseline REV --port P`` (P and P+1 are used).
Writes ``bench/results/http_ab.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/http.py

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import tempfile
from datetime import UTC, datetime
from typing import Any

from bench.http import DEFAULT_PG_URL, _admin, baseline_tree, load, payment_requests, payment_service, uptime

FIGURES = ("payments_per_s", "worker_cpu_us", "postgres_cpu_us", "p50_ms", "p99_ms")


def round_of(side: dict[str, Any], requests: int, connections: int) -> dict[str, float]:
    signed = payment_requests(side["base"], side["terminal"], side["invoices"], requests)
    result = load(signed, connections, refusals=(503,), watch=side["watch"])
    cpu = result["cpu_us_per_request"]
    return {
        "payments_per_s": result["ok_per_s"],
        "worker_cpu_us": cpu["workers"],
        "postgres_cpu_us": cpu["postgres"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "refused_503": result["statuses"].get(503, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("CITYSETTLE_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--baseline", required=True, metavar="REV", help="the commit to compare with (A)")
    parser.add_argument("--port", type=int, help="A listens on it, B on the next (default: free ports)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side")
    parser.add_argument("--requests", type=int, default=2_000, help="closed-loop payments per round")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "http_ab.json")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    scratch = Path(tempfile.mkdtemp(prefix="citysettle-bench-ab-"))
    (scratch / "baseline").mkdir()
    trees = {"A": baseline_tree(args.baseline, scratch / "baseline"), "B": root}
    results: dict[str, Any] = {"baseline": args.baseline, "uptime_before": uptime()}
    names = {label: f"citysettle_bench_ab_{os.getpid()}_{label}" for label in trees}
    try:
        for name in names.values():
            asyncio.run(_admin(args.pg_url, f'CREATE DATABASE "{name}"'))
        with contextlib.ExitStack() as stack:
            sides: dict[str, dict[str, Any]] = {}
            for index, (label, tree) in enumerate(trees.items()):
                url = f"{args.pg_url.rpartition('/')[0]}/{names[label]}"
                port = args.port + index if args.port else None
                log = scratch / f"{label}.log"
                sides[label] = stack.enter_context(
                    payment_service(tree, url, log, port, args.invoices, args.connections)
                )
            rounds: dict[str, list[dict[str, float]]] = {label: [] for label in sides}
            results["uptime_during"] = []
            for n in range(args.rounds):
                order = ("A", "B") if n % 2 == 0 else ("B", "A")
                for label in order:
                    rounds[label].append(round_of(sides[label], args.requests, args.connections))
                    print(f"round {n + 1} {label}: {rounds[label][-1]}", flush=True)
                results["uptime_during"].append(uptime())
    finally:
        for name in names.values():
            asyncio.run(_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(scratch, ignore_errors=True)
    results["uptime_after"] = uptime()
    for label, measured in rounds.items():
        results[label] = {
            "median": {f: round(statistics.median(r[f] for r in measured), 1) for f in FIGURES},
            "rounds": [{f: round(v, 1) for f, v in r.items()} for r in measured],
        }
    results["ratio_B_vs_A"] = {}
    for figure in FIGURES:
        per_round = [b[figure] / a[figure] for a, b in zip(rounds["A"], rounds["B"], strict=True) if a[figure]]
        results["ratio_B_vs_A"][figure] = {
            "of_medians": round(results["B"]["median"][figure] / results["A"]["median"][figure], 3),
            "per_round_min": round(min(per_round), 3),
            "per_round_max": round(max(per_round), 3),
        }
    results.update(
        {
            "requests_per_round": args.requests,
            "connections": args.connections,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("ratio_B_vs_A", "uptime_before", "uptime_after")}, indent=2))
    print(json.dumps({label: results[label]["median"] for label in ("A", "B")}, indent=2))


if __name__ == "__main__":
    main()
