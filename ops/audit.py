"""Auditor commands: verify the hash chain, export the log as JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from typing import Any, TextIO

from adapters.eventstore.chain import verify_chain
from ops.config import Config
from ops.stores import open_store

EXIT_TAMPERED = 4
EXPORT_PAGE = 5_000


async def verify(config: Config, out: TextIO) -> int:
    store = await open_store(config)
    try:
        head, broken = await verify_chain(store)
        stored_head = await store.head()
    finally:
        await store.close()
    report: dict[str, Any] = {"verified_through": head.position, "head_hash": head.hash.hex()}
    if broken is None and stored_head != head:
        broken_position, reason = head.position + 1, "chain head does not match the last row"
    elif broken is not None:
        broken_position, reason = broken.position, broken.reason
    else:
        out.write(json.dumps({"status": "intact", **report}) + "\n")
        return 0
    out.write(
        json.dumps({"status": "tampered", "first_bad_position": broken_position, "reason": reason, **report}) + "\n"
    )
    return EXIT_TAMPERED


async def export_events(config: Config, since: int, out: TextIO) -> int:
    """Each line holds the row exactly as stored (state in base64) plus its chain hash,
    so the export alone is enough to recompute the chain."""
    store = await open_store(config)
    try:
        position = since
        while records := await store.read_log(position, EXPORT_PAGE):
            for r in records:
                line = {
                    "position": r.position,
                    "stream_id": str(r.stream_id),
                    "version": r.version,
                    "topic": r.topic,
                    "state_b64": base64.b64encode(r.state).decode("ascii"),
                    "hash": r.hash.hex(),
                }
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
            position = records[-1].position
    finally:
        await store.close()
    return 0


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env().with_overrides(store_url=args.store)


def register(commands: Any) -> None:
    audit_cmd = commands.add_parser("audit", help="verify or replay the event history")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    verify_cmd = audit_sub.add_parser("verify", help="recompute the hash chain; exit 4 at the first bad position")
    verify_cmd.add_argument("--store")
    verify_cmd.set_defaults(handler=lambda a: asyncio.run(verify(_config(a), sys.stdout)))

    export_cmd = commands.add_parser("export", help="export history")
    export_sub = export_cmd.add_subparsers(dest="export_command", required=True)
    events_cmd = export_sub.add_parser("events", help="the global log as JSON lines on stdout")
    events_cmd.add_argument("--store")
    events_cmd.add_argument("--since", type=int, default=0, metavar="POSITION")
    events_cmd.set_defaults(handler=lambda a: asyncio.run(export_events(_config(a), a.since, sys.stdout)))
