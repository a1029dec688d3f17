"""``citysettle backup`` and ``citysettle restore``: a copy of the store taken while the
service runs, and that copy made a store again, in a new place (docs/OPERATIONS.md).

Both print one JSON line: the file, its format and the chain head it holds (position and
hash), which `audit verify` on the restored store reports again. Exit codes: 0 done,
2 refused (one line on stderr: no store, a file in the way, no ``pg_dump``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from adapters.eventstore.backup import (
    Backup,
    BackupError,
    backup_postgres,
    backup_sqlite,
    restore_postgres,
    restore_sqlite,
)
from adapters.eventstore.base import StoreNotFound, redacted_url
from ops.config import Config, ConfigError
from ops.stores import open_store

EXIT_REFUSED = 2


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite://")


async def backup(config: Config, out: Path) -> Backup:
    store = await open_store(config, create=False, decodes=False)  # "no event store at ..." or why not reachable
    await store.close()
    url = config.store_url
    if _is_sqlite(url):
        return await asyncio.to_thread(backup_sqlite, url, out)
    return await backup_postgres(url, out)


async def restore(config: Config, source: Path) -> Backup:
    url = config.store_url
    if _is_sqlite(url):
        return await asyncio.to_thread(restore_sqlite, source, url)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"unsupported store URL scheme {url.split('://', 1)[0]!r}: use sqlite:/// or postgresql://")
    restored = await restore_postgres(source, url)
    store = await open_store(config, create=False, decodes=False)  # the restored store opens as a store
    await store.close()
    return restored


def _report(config: Config, done: Backup) -> int:
    print(json.dumps({"store": redacted_url(config.store_url), **done.as_dict()}))
    return 0


def _refused(message: str) -> int:
    print(f"citysettle: {message}", file=sys.stderr)
    return EXIT_REFUSED


def _command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    work = backup(config, args.out) if args.command == "backup" else restore(config, args.source)
    try:
        return _report(config, asyncio.run(work))
    except (BackupError, StoreNotFound) as exc:
        return _refused(str(exc))


def register(commands: Any) -> None:
    backup_cmd = commands.add_parser(
        "backup",
        help="copy the store while it runs: SQLite's online backup, or pg_dump --format=custom on PostgreSQL",
    )
    backup_cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE)")
    backup_cmd.add_argument("--out", type=Path, required=True, metavar="FILE", help="the backup file to create")
    backup_cmd.set_defaults(handler=_command)

    restore_cmd = commands.add_parser(
        "restore", help="make a backup a store again, in a new SQLite file or an empty PostgreSQL database"
    )
    restore_cmd.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE", help="a backup file")
    restore_cmd.add_argument("--store", required=True, help="where the restored store goes (must not hold one)")
    restore_cmd.set_defaults(handler=_command)
