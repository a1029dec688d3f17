"""``citysettle demo``: seed an empty store with the demo day, say what it made and how to
look at it, then serve it.

    citysettle demo [--store URL] [--no-serve] [--seed N] [--size N] [--if-empty] [--out DIR]
                    [--host H] [--port P]

The day is `ops.demo.day.DEMO_DAY` (Tuesday 24 November 2026 in Hà Nội), whatever the
date today; the same ``--seed`` and ``--size`` give the same events. Files (key files,
the bank statement, the pain.001 instructions, ``summary.json``) go to ``--out``
(default ``var/demo``). A store that already holds events is refused (exit 1, nothing
written) unless ``--if-empty``, which says it skipped and serves the store as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from adapters.eventstore.base import redacted_url
from adapters.secrets import SecretSealer
from ops import serving
from ops.config import Config
from ops.demo.day import DEFAULT_SEED, DEFAULT_SIZE, MIN_SIZE, DemoDay
from ops.demo.seed import seed
from ops.stores import open_store

EXIT_REFUSED = 1
EXIT_USAGE = 2
DEFAULT_OUT = Path("var/demo")
MAX_SIZE = 100_000


class NotEmpty(Exception):
    def __init__(self, events: int) -> None:
        super().__init__(events)
        self.events = events


async def _seed(config: Config, day: DemoDay, out: Path) -> dict[str, Any] | None:
    store = await open_store(config)
    try:
        events = (await store.head()).position
        if events:
            raise NotEmpty(events)
        print(
            f"citysettle demo: the store is empty: seeding the demo day ({day.day.isoformat()}, "
            f"seed {day.seed}, size {day.size}) into {redacted_url(config.store_url)} ...",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        seeded = await seed(store, day, out, SecretSealer(config.codec.cipher_key))
    finally:
        await store.close()
    (out / "summary.json").write_text(json.dumps(seeded.summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return seeded.summary


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def report(summary: dict[str, Any], config: Config, out: Path) -> str:
    """What the demo made and how to look at it, for a person."""
    made = summary["made"]
    run = summary["reconciliation"]
    batches = summary["settlement"]["batches"]
    url = f"http://{config.host}:{config.port}"
    clients = summary["clients"]
    default = Config()
    to = "" if (config.host, config.port) == (default.host, default.port) else f" --url {url}"
    program = sys.argv[0] if Path(sys.argv[0]).name == "citysettle" else "citysettle"

    def call(client: str, path: str, tail: str = "") -> str:
        key = clients[client]
        return f"  {program} call GET '{path}' --key {key['key_file']} --key-id {key['key_id']}{to}{tail}"

    exceptions = ", ".join(f"{n} {category}" for category, n in run["exceptions"].items()) or "none"
    first_batch = batches[0]["id"] if batches else None
    lines = [
        f"citysettle demo: seeded {redacted_url(config.store_url)} with {summary['events']:,} events: "
        f"Tuesday {summary['demo_day']} in Hà Nội (the demo day; seed {summary['seed']}, size {summary['size']})",
        f"  {made.get('invoices', 0):,} fee invoices at the ward's one-stop counter "
        f"({made.get('invoices.paid_by_budget', 0):,} paid in full by the city budget: VNeID judicial records); "
        f"{made.get('bank_credits.exact', 0) + made.get('bank_credits.partial', 0):,} bank credits paid payments, "
        f"{made.get('bank_credits.late', 0)} came late, {made.get('bank_credits.unmatched', 0)} matched nothing, "
        f"{made.get('bank_credits.overpaid', 0)} paid twice; "
        f"{made.get('bank_notices.redelivered', 0)} notices delivered twice",
        f"  {made.get('parking.sessions', 0):,} parking sessions in 3 lots "
        f"({made.get('parking.sessions.cash', 0):,} in cash), {made.get('parking.reservations', 0)} pre-bookings; "
        f"{made.get('tickets', 0):,} bus tickets, {made.get('validations', 0):,} rides",
        f"  bank statement {out / summary['statement']['file']} ({summary['statement']['lines']:,} lines), "
        f"reconciled: run {run['run_id']}, exceptions: {exceptions}",
        f"  settlement of {summary['settlement']['business_date']} closed: {len(batches)} batches, "
        f"{_vnd(summary['settlement']['total_vnd'])}, pain.001 files in {out / 'settlement'}",
        f"  keys of every role in {out / 'keys'} (demo keys that follow from the seed: never use them "
        "for real money); key ids in summary.json",
        "",
        f"Look at it (the service: {url}; {url}/openapi.json, {url}/metrics):",
        call("demo-finance", f"/v1/settlement/runs/{run['run_id']}/exceptions"),
        call("demo-finance", f"/v1/settlement/runs/{run['run_id']}/report.html", " > report.html"),
    ]
    if first_batch is not None:
        lines.append(call("demo-finance", f"/v1/settlement/batches/{first_batch}/pain001.xml"))
    lines += [
        call("demo-auditor", "/v1/ledger/accounts/payable:operator:hapark"),
        call("demo-admin", "/v1/parking/lots/HK-HANGBAI/cashless-share"),
        call("demo-attendant", "/v1/parking/lots/HK-LYTHAITO/occupancy"),
    ]
    examples = summary["examples"]
    if examples["paid_invoice"]:
        lines.append(call("demo-counter", f"/v1/fees/invoices/{examples['paid_invoice']}"))
    if examples["wallet_holder"]:
        lines.append(call("demo-app", f"/v1/wallets/{examples['wallet_holder']}"))
    lines.append(f"  {program} audit verify --store '{config.store_url}'   # and: audit replay, export events")
    return "\n".join(lines)


def _command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store, host=args.host)
    port = serving.parse_port(config.host, args.port) if args.port is not None or not args.no_serve else None
    config = config.with_overrides(port=port)
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        print(
            f"citysettle demo: --size must be {MIN_SIZE}-{MAX_SIZE} (fee invoices of the day), got {args.size}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    day = DemoDay(seed=args.seed, size=args.size)
    if not args.no_serve:  # what would stop the service stops the demo before it seeds anything
        config = serving.preflight(config)
    try:
        summary = asyncio.run(_seed(config, day, args.out))
    except NotEmpty as full:
        where = redacted_url(config.store_url)
        if not args.if_empty:
            print(
                f"citysettle demo: the store at {where} already holds {full.events:,} events; "
                "the demo only fills an empty store (give another --store, or --if-empty to serve it as it is)",
                file=sys.stderr,
            )
            return EXIT_REFUSED
        print(
            f"citysettle demo: the store at {where} already holds {full.events:,} events: demo not seeded (--if-empty)"
        )
        summary = None
    if summary is not None:
        print(report(summary, config, args.out), flush=True)
    if args.no_serve:
        return 0
    return serving.serve(config, 1)


def register(commands: Any) -> None:
    cmd = commands.add_parser("demo", help="seed an empty store with a demo day of a Hanoi ward, then serve it")
    cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    cmd.add_argument("--no-serve", action="store_true", help="only seed, do not serve")
    cmd.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the day's random seed (default {DEFAULT_SEED})")
    cmd.add_argument(
        "--size",
        type=int,
        default=DEFAULT_SIZE,
        help=f"fee invoices of the day; the rest scales (default {DEFAULT_SIZE})",
    )
    cmd.add_argument("--if-empty", action="store_true", help="a store with events: say so and serve it unseeded")
    cmd.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where the demo's files go (default {DEFAULT_OUT})")
    cmd.add_argument("--host", help="listen address (default 127.0.0.1)")
    cmd.add_argument("--port", help="listen port, 1-65535 (default 8080)")
    cmd.set_defaults(handler=_command)
