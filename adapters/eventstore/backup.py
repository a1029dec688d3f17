"""Backups of an event store, taken while the service runs, and their restore.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one
step, which is one read transaction: the copy is the database as of one commit, whatever
the writers do meanwhile (WAL lets them go on). The copy is made self-contained (rollback
journal, no ``-wal`` file beside it) and checked (``PRAGMA integrity_check``).

PostgreSQL: ``pg_dump --format=custom`` of the store's database (or of its schema, for a
``?schema=`` URL), in a snapshot this module exports from a repeatable-read transaction,
so the chain head it reports is the one in the dump. ``pg_dump`` and ``pg_restore`` of a
major version at least the server's are looked for in Debian's
``/usr/lib/postgresql/<major>/bin`` and then on ``PATH``. The password never goes on a
command line: the tools get it in ``PGPASSWORD``.

Restores go into a new place only (a file that does not exist, a database without a
store), so a restore can never overwrite a store.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from adapters.eventstore.base import redacted_url
from adapters.eventstore.postgres import split_store_url
from adapters.eventstore.postgres_schema import schema_identifier
from adapters.eventstore.sqlite import sqlite_path
from adapters.eventstore.sqlite_schema import stored_version
from domain.ports import ChainHead, EventStoreError

DEBIAN_TOOLS = Path("/usr/lib/postgresql")


class BackupError(EventStoreError):
    """What an operator can fix (a file in the way, a missing tool): said in one line."""


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup made, or restored: where, in which format, and the chain head it holds."""

    format: str  # "sqlite" or "pg_dump-custom"
    path: Path
    head: ChainHead

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "file": str(self.path),
            "bytes": self.path.stat().st_size if self.path.is_file() else None,
            "position": self.head.position,
            "head_hash": self.head.hash.hex(),
        }


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} exists; refusing to overwrite it: give a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"folder {path.parent} does not exist; create it first")


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"cannot read {path}: no such file")


def _head(conn: sqlite3.Connection) -> ChainHead:
    position, digest = conn.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
    return ChainHead(position, bytes(digest))


def _open_existing(path: Path, url: str) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"no event store at {redacted_url(url)}: {path} does not exist")
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, timeout=30.0)
    try:
        version = stored_version(conn)
    except sqlite3.DatabaseError as exc:  # not a database at all
        conn.close()
        raise BackupError(f"{path} is not a citysettle SQLite store ({exc})") from None
    if version is None:
        conn.close()
        raise BackupError(f"{path} is not a citysettle SQLite store (it has no schema_migrations table)")
    return conn


def _copy(source: sqlite3.Connection, target: Path, journal_mode: str) -> ChainHead:
    """The whole of ``source`` into the new file ``target``, checked; its chain head."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # pages=-1: one step, so one read transaction, so one commit's state
        copy.execute(f"PRAGMA journal_mode={journal_mode}")
        (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check ({verdict}); nothing was written")
        head = _head(copy)
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    copy.close()
    partial.rename(target)
    return head


def backup_sqlite(url: str, out: Path) -> Backup:
    _refuse_existing(out)
    source = _open_existing(Path(sqlite_path(url)), url)
    try:
        return Backup("sqlite", out, _copy(source, out, "DELETE"))
    finally:
        source.close()


def restore_sqlite(backup: Path, url: str) -> Backup:
    """``backup`` (a file `backup_sqlite` made) becomes the store at ``url``, a new file."""
    target = Path(sqlite_path(url))
    for path in (target, target.with_name(f"{target.name}-wal")):
        _refuse_existing(path)
    source = _open_existing(backup, f"sqlite:///{backup}")
    try:
        return Backup("sqlite", target, _copy(source, target, "WAL"))  # as the service opens stores
    finally:
        source.close()


# -- PostgreSQL -------------------------------------------------------------------------


def _major(version_output: str) -> int | None:
    found = re.search(r"\) (\d+)", version_output) or re.search(r"(\d+)\.\d+", version_output)
    return int(found.group(1)) if found else None


async def _tool_major(path: str) -> int | None:
    process = await asyncio.create_subprocess_exec(
        path, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await process.communicate()
    return _major(out.decode(errors="replace")) if process.returncode == 0 else None


def _installed(name: str) -> list[str | None]:
    """Debian's copies of the tool, oldest major version first, then the one on PATH."""
    debian = sorted(DEBIAN_TOOLS.glob(f"*/bin/{name}"), key=lambda p: _major(f"{p.parts[-3]}.0") or 0)
    return [*(str(p) for p in debian), shutil.which(name)]


async def find_pg_tool(name: str, server_major: int) -> str:
    """``pg_dump`` or ``pg_restore`` of the server's major version or a later one."""
    for path in _installed(name):
        if path is None:
            continue
        major = await _tool_major(path)
        if major is not None and major >= server_major:
            return path
    raise BackupError(
        f"{name} for PostgreSQL {server_major} or newer not found (in {DEBIAN_TOOLS}/*/bin or on PATH): "
        f"install it, e.g. apt-get install postgresql-client-{server_major}"
    )


@dataclass(frozen=True, slots=True)
class _Target:
    dsn: str  # without password and without our schema parameter
    schema: str | None
    environment: dict[str, str]


def _target(url: str) -> _Target:
    dsn, schema = split_store_url(url)
    parts = urlsplit(dsn)
    environment = dict(os.environ)
    if parts.password is not None:
        environment["PGPASSWORD"] = unquote(parts.password)
        user_info, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user_info.split(':', 1)[0]}@{host}")
    return _Target(urlunsplit(parts), schema, environment)


async def _run(tool: str, *args: str, environment: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        tool, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=environment
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        said = err.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{Path(tool).name} failed: {said[-1] if said else f'exit {process.returncode}'}")


async def _server_major(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SHOW server_version_num")) // 10_000


async def _read_head(conn: asyncpg.Connection, schema: str | None) -> ChainHead:
    table = f"{schema_identifier(schema)}.chain_head" if schema else "chain_head"
    row = await conn.fetchrow(f"SELECT position, hash FROM {table} WHERE id = 1")
    return ChainHead(row["position"], bytes(row["hash"]))


async def backup_postgres(url: str, out: Path) -> Backup:
    _refuse_existing(out)
    target = _target(url)
    conn = await asyncpg.connect(split_store_url(url)[0])
    try:
        tool = await find_pg_tool("pg_dump", await _server_major(conn))
        # The dump reads the snapshot this transaction exports: the head read here is the dump's.
        await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
        try:
            head = await _read_head(conn, target.schema)
        except asyncpg.UndefinedTableError:
            raise BackupError(f"no event store at {redacted_url(url)}") from None
        partial = out.with_name(f".{out.name}.partial")
        partial.unlink(missing_ok=True)
        args = ["--format=custom", f"--file={partial}", f"--snapshot={snapshot}", "--no-password"]
        if target.schema:
            args.append(f"--schema={target.schema}")
        try:
            await _run(tool, *args, target.dsn, environment=target.environment)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(out)
        await conn.execute("COMMIT")
    finally:
        await conn.close()
    return Backup("pg_dump-custom", out, head)


async def restore_postgres(backup: Path, url: str) -> Backup:
    """``pg_restore`` of ``backup`` into the database at ``url`` (it must exist: ``createdb``),
    which must not hold a store yet. The schema is the one the dump names."""
    _require_file(backup)
    target = _target(url)
    conn = await asyncpg.connect(split_store_url(url)[0])
    try:
        table = f"{schema_identifier(target.schema)}.events" if target.schema else "events"
        if await conn.fetchval("SELECT to_regclass($1)", table) is not None:
            raise BackupError(f"{redacted_url(url)} holds an event store already; restore into a new database")
        tool = await find_pg_tool("pg_restore", await _server_major(conn))
        args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password"]
        await _run(tool, *args, f"--dbname={target.dsn}", str(backup), environment=target.environment)
        try:
            head = await _read_head(conn, target.schema)
        except asyncpg.UndefinedTableError:
            raise BackupError(
                f"{backup} restored, but it holds no store in {target.schema or 'public'}: "
                "give the URL the schema the backup was taken from (?schema=NAME)"
            ) from None
    finally:
        await conn.close()
    return Backup("pg_dump-custom", backup, head)
