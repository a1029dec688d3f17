"""`citysettle audit verify` and `citysettle export events` against real stores."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from uuid import UUID

import pytest

from adapters.eventstore.base import StoreNotFound
from adapters.eventstore.chain import GENESIS_HASH, canonical_row_bytes
from adapters.eventstore.sqlite import sqlite_path
from ops.cli.audit import EXIT_NO_STORE, EXIT_TAMPERED, export_events, replay_projections, verify
from ops.config import Config
from ops.stores import open_store
from tests.support.aggregates import Wallet


async def _seed(store_url: str, wallets: int) -> None:
    store = await open_store(Config(store_url=store_url))
    for i in range(wallets):
        wallet = Wallet(f"a{i}")
        wallet.credit(i)
        await store.append(wallet.collect_events())
    await store.close()


async def test_verify_intact_history_exits_zero(store_url: str) -> None:
    await _seed(store_url, 5)
    out = io.StringIO()
    assert await verify(Config(store_url=store_url), out) == 0
    report = json.loads(out.getvalue())
    assert report["status"] == "intact"
    assert report["verified_through"] == 10


async def test_verify_names_the_first_altered_position(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    await _seed(url, 5)
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute("UPDATE events SET state = CAST('{}' AS BLOB) WHERE position = 6")
    out = io.StringIO()
    assert await verify(Config(store_url=url), out) == EXIT_TAMPERED
    assert json.loads(out.getvalue())["first_bad_position"] == 6


async def test_export_is_enough_to_recompute_the_chain(store_url: str) -> None:
    await _seed(store_url, 4)
    out = io.StringIO()
    await export_events(Config(store_url=store_url), 0, out)
    prev = GENESIS_HASH
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["position"] for line in lines] == list(range(1, 9))
    for line in lines:
        data = canonical_row_bytes(
            line["position"],
            UUID(line["stream_id"]),
            line["version"],
            line["topic"],
            base64.b64decode(line["state_b64"]),
        )
        prev = hashlib.sha256(prev + data).digest()
        assert prev.hex() == line["hash"]


async def test_export_since_a_position(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.db"
    await _seed(url, 3)
    out = io.StringIO()
    await export_events(Config(store_url=url), 4, out)
    assert [json.loads(line)["position"] for line in out.getvalue().splitlines()] == [5, 6]


def test_cli_exit_code_for_tampered_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    asyncio.run(_seed(url, 2))
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("DELETE FROM events WHERE position = 1")
    result = subprocess.run(
        [sys.executable, "-m", "ops.cli", "audit", "verify", "--store", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_TAMPERED, result.stderr
    assert json.loads(result.stdout)["first_bad_position"] == 1


async def test_auditor_commands_refuse_a_missing_store_and_create_nothing(store_url: str, backend: str) -> None:
    config = Config(store_url=store_url)
    for command in (verify(config, io.StringIO()), export_events(config, 0, io.StringIO())):
        with pytest.raises(StoreNotFound, match="no event store"):
            await command
    with pytest.raises(StoreNotFound, match="no event store"):
        await replay_projections(config, io.StringIO())
    if backend == "sqlite":
        assert not _exists(sqlite_path(store_url))


@pytest.mark.parametrize(
    "command", [["audit", "verify"], ["audit", "replay"], ["export", "events"]], ids=lambda c: "-".join(c)
)
def test_cli_on_a_mistyped_store_exits_2_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    url = f"sqlite:///{tmp_path}/typo.db"
    result = subprocess.run(
        [sys.executable, "-m", "ops.cli", *command, "--store", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_NO_STORE == 2
    assert result.stdout == ""
    assert f"no event store at {url}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "typo.db").exists()


def test_cli_refuses_a_postgres_store_that_was_never_created(pg_database_url: str) -> None:
    url = f"{pg_database_url}?schema=t_typo_{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [sys.executable, "-m", "ops.cli", "audit", "verify", "--store", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_NO_STORE
    assert "no event store" in result.stderr
    assert "citysettle:citysettle@" not in result.stderr
    assert "Traceback" not in result.stderr


def _exists(path: str) -> bool:
    return Path(path).exists()


async def test_verify_of_a_store_being_written_is_intact(store_url: str) -> None:
    """A live store (the primary under load, a streaming standby) grows while it is read:
    events appended after verify's last page are no tampering."""
    await _seed(store_url, 3)
    writer = await open_store(Config(store_url=store_url))
    stop = asyncio.Event()

    async def append_meanwhile() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            await writer.append(Wallet(f"live{i}").collect_events())

    appending = asyncio.create_task(append_meanwhile())
    try:
        for _ in range(15):
            out = io.StringIO()
            code = await verify(Config(store_url=store_url), out)
            assert (code, json.loads(out.getvalue())["status"]) == (0, "intact"), out.getvalue()
    finally:
        stop.set()
        await appending
        await writer.close()


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ("UPDATE chain_head SET position = position - 1", 9),  # a head that is not its row's
        # a row past a head that is otherwise right
        ("UPDATE chain_head SET position = 9, hash = (SELECT hash FROM events WHERE position = 9)", 10),
        ("DELETE FROM events WHERE position = 10", 10),  # the log ends before the head
        ("UPDATE chain_head SET hash = zeroblob(32)", 10),  # the head's hash is not the row's
    ],
)
async def test_verify_still_finds_a_head_that_disagrees_with_the_log(
    tmp_path: Path, tamper: str, first_bad: int
) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    await _seed(url, 5)
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute(tamper)
    out = io.StringIO()
    assert await verify(Config(store_url=url), out) == EXIT_TAMPERED
    assert json.loads(out.getvalue())["first_bad_position"] == first_bad, out.getvalue()
