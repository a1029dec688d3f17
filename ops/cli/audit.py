"""Auditor commands: verify the hash chain, export the log and its checkpoints as JSON lines.

They open the store existing-only: a mistyped URL is refused (exit 2, like a configuration
error) instead of creating an empty store that would then verify as intact."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TextIO

from adapters.eventstore.base import StoreNotFound
from adapters.eventstore.chain import verify_chain
from adapters.eventstore.checkpoints import CheckpointKeyError, KeyRing, write_new_key
from domain.ports import LogRecord
from ops.cli.audit_offline import ExportFileError, export_checkpoints, verify_export
from ops.cli.audit_verdict import EXIT_TAMPERED as EXIT_TAMPERED  # re-exported: the exit codes live here
from ops.cli.audit_verdict import UnknownCheckpointKey as UnknownCheckpointKey
from ops.cli.audit_verdict import first_bad_signature, refuse_unknown_keys, write_verdict
from ops.cli.progress import progress
from ops.config import Config
from ops.projections import projections, replay, summarise
from ops.stores import open_store

EXIT_NO_STORE = 2  # as for a configuration error; also a keyring without a checkpoint's key
EXIT_BEHIND = 3  # replay: the live projections have not caught up with the log


EXPORT_PAGE = 5_000


async def verify(config: Config, out: TextIO, keyring: KeyRing | None = None) -> int:
    """Recompute the chain; check every checkpoint's signature against ``keyring`` and
    its hash against the recomputed chain. Exit 0 when intact, 4 at the first problem."""
    store = await open_store(config, create=False, decodes=False)
    try:
        checkpoints = await store.checkpoints()
        refuse_unknown_keys(checkpoints, keyring)
        bad_signature = first_bad_signature(checkpoints, keyring)
        pins = {c.position: c.hash for c in checkpoints} if keyring is not None else {}
        # a live store (the service appending, a streaming standby) grows while it is
        # read: the head read before must be on the verified chain, the one read after
        # must not be behind it
        head_before = await store.head()
        with progress("verify", head_before.position) as advance:
            head, broken = await verify_chain(store, pins=pins, on_page=advance)
        row_at_head = await store.read_log(head_before.position - 1, 1) if head_before.position else []
        head_after = await store.head()
    finally:
        await store.close()
    problems = []
    if broken is not None:
        problems.append((broken.position, broken.reason))
    elif head.position < head_before.position:
        problems.append((head.position + 1, f"the log ends before the chain head at {head_before.position}"))
    elif head_before.position and row_at_head[0].hash != head_before.hash:
        problems.append((head_before.position, "chain head does not match the row at its position"))
    elif head_after.position < head.position:
        problems.append((head_after.position + 1, f"rows past the chain head at {head_after.position}"))
    elif head_after.position == head.position and head_after != head:
        problems.append((head.position, "chain head does not match the last row"))
    if bad_signature is not None:
        problems.append(bad_signature)
    return write_verdict(out, head, problems, len(checkpoints), keyring is not None and bad_signature is None)


async def export_events(config: Config, since: int, out: TextIO) -> int:
    """Each line holds the row exactly as stored (state in base64) plus its chain hash,
    so the export alone is enough to recompute the chain."""
    store = await open_store(config, create=False, decodes=False)
    try:
        position = since
        total = max((await store.head()).position - since, 0)
        with progress("export", total) as advance:
            while records := await store.read_log(position, EXPORT_PAGE):
                _write_events(out, records)
                advance(len(records))
                position = records[-1].position
    finally:
        await store.close()
    return 0


def _write_events(out: TextIO, records: list[LogRecord]) -> None:
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


async def replay_projections(config: Config, out: TextIO) -> int:
    """Rebuild every projection from one pass over the log and compare each with the
    stored one; the report says how fast the log was read, decoded and folded."""
    store = await open_store(config, create=False)
    try:
        with progress("replay", (await store.head()).position) as advance:
            result = await replay(store, projections(), on_page=advance)
    finally:
        await store.close()
    report = summarise(result)
    out.write(json.dumps(report) + "\n")
    return {"identical": 0, "behind": EXIT_BEHIND}.get(report["status"], EXIT_TAMPERED)


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env().with_overrides(store_url=args.store)


def _run(command: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(command)
    except (StoreNotFound, UnknownCheckpointKey, ExportFileError, CheckpointKeyError) as exc:
        print(f"citysettle: {exc}", file=sys.stderr)
        return EXIT_NO_STORE


def _verify_command(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.from_export is not None and (args.store is not None or args.checkpoints is None):
        return _usage("--from-export FILE verifies an export offline: give --checkpoints FILE, without --store")
    if args.checkpoints is not None and args.from_export is None:
        return _usage("--checkpoints FILE goes with --from-export EVENTS_FILE")
    try:
        keyring = _keyring(args.keyring or config.checkpoint_keyring_file)
    except CheckpointKeyError as exc:
        return _usage(str(exc))
    if args.from_export is not None:
        return _run(verify_export(args.from_export, args.checkpoints, keyring, sys.stdout))
    return _run(verify(config, sys.stdout, keyring))


def _export_checkpoints_command(args: argparse.Namespace) -> int:
    config = _config(args)
    ring_path = args.keyring or config.checkpoint_keyring_file
    if ring_path is None:
        return _usage(
            "export checkpoints carries the public keys: give --keyring FILE or $CITYSETTLE_CHECKPOINT_KEYRING"
        )
    try:
        keyring = KeyRing.from_json_file(ring_path)
    except CheckpointKeyError as exc:
        return _usage(str(exc))
    return _run(export_checkpoints(config, keyring, sys.stdout))


def _keyring(path: Path | None) -> KeyRing | None:
    return KeyRing.from_json_file(path) if path else None


def _usage(message: str) -> int:
    print(f"citysettle: {message}", file=sys.stderr)
    return EXIT_NO_STORE


def _keygen_command(args: argparse.Namespace) -> int:
    for path in (args.key, args.keyring):
        if not path.parent.is_dir():  # a mistyped folder must not silently become a new one
            print(f"citysettle: folder {path.parent} does not exist; create it first", file=sys.stderr)
            return 2
    if args.key.exists():
        print(f"citysettle: {args.key} exists; refusing to overwrite a signing key", file=sys.stderr)
        return 1
    try:
        key_id = write_new_key(args.key, args.keyring)
    except CheckpointKeyError as exc:  # the ring is read before the key is written: nothing made
        return _usage(str(exc))
    print(json.dumps({"key_id": key_id, "key": str(args.key), "keyring": str(args.keyring)}))
    return 0


def register(commands: Any) -> None:
    audit_cmd = commands.add_parser("audit", help="verify or replay the event history")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    verify_cmd = audit_sub.add_parser(
        "verify",
        help="recompute the hash chain; exit 4 at the first bad position, 2 when there is no store "
        "or the keyring lacks the key of a checkpoint",
    )
    verify_cmd.add_argument("--store")
    verify_cmd.add_argument(
        "--keyring", type=Path, help="trusted checkpoint public keys (JSON); default $CITYSETTLE_CHECKPOINT_KEYRING"
    )
    verify_cmd.add_argument(
        "--from-export", type=Path, metavar="EVENTS_FILE", help="verify this `export events` file instead of a store"
    )
    verify_cmd.add_argument("--checkpoints", type=Path, metavar="FILE", help="its `export checkpoints` file")
    verify_cmd.set_defaults(handler=_verify_command)

    replay_cmd = audit_sub.add_parser(
        "replay",
        help="rebuild every projection from the log and compare it with the live one; exit 4 if different, "
        "3 if the live projections are behind the log",
    )
    replay_cmd.add_argument("--store")
    replay_cmd.set_defaults(handler=lambda a: _run(replay_projections(_config(a), sys.stdout)))

    keygen_cmd = audit_sub.add_parser("keygen", help="create a checkpoint signing key and add it to a key ring")
    keygen_cmd.add_argument("--key", type=Path, required=True, help="private key file to create (PEM, mode 0600)")
    keygen_cmd.add_argument("--keyring", type=Path, required=True, help="key ring JSON to create or extend")
    keygen_cmd.set_defaults(handler=_keygen_command)

    export_cmd = commands.add_parser("export", help="export history")
    export_sub = export_cmd.add_subparsers(dest="export_command", required=True)
    events_cmd = export_sub.add_parser("events", help="the global log as JSON lines on stdout")
    events_cmd.add_argument("--store")
    events_cmd.add_argument("--since", type=int, default=0, metavar="POSITION")
    events_cmd.set_defaults(handler=lambda a: _run(export_events(_config(a), a.since, sys.stdout)))
    checkpoints_cmd = export_sub.add_parser(
        "checkpoints", help="the signed checkpoints and the public keys by key id as JSON lines on stdout"
    )
    checkpoints_cmd.add_argument("--store")
    checkpoints_cmd.add_argument(
        "--keyring", type=Path, help="the checkpoint public keys (JSON); default $CITYSETTLE_CHECKPOINT_KEYRING"
    )
    checkpoints_cmd.set_defaults(handler=_export_checkpoints_command)
