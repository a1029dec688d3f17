"""`citysettle backup` while the store takes writes, `citysettle restore` into a new place:
the copy verifies, replays, and ends on a row of the original, same position, same hash."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.eventstore import backup as backups
from domain.services.projections import ProjectionRunner
from ops.cli.backup import backup
from ops.config import Config
from ops.projections import projections
from ops.stores import open_store
from tests.conftest import admin
from tests.support.cli import citysettle
from tests.support.parking import T0
from tests.support.settlement import collect


def new_place(store_url: str, tmp_path: Path) -> str:
    """Where a restore may go: a new SQLite file, or a new database (same schema name)."""
    if store_url.startswith("sqlite://"):
        return f"sqlite:///{tmp_path}/restored/citysettle.db"
    base, _, rest = store_url.rpartition("/")
    schema = rest.partition("?")[2]
    return f"{base}/citysettle_restore_{uuid.uuid4().hex[:10]}?{schema}"


async def test_a_backup_taken_under_writes_restores_to_a_store_that_verifies_and_replays(
    store_url: str, tmp_path: Path
) -> None:
    store = await open_store(Config(store_url=store_url))
    writing = True

    async def keep_writing() -> int:
        n = 0
        while writing:
            await collect(store, f"HS-W{n}", "counter", T0 + timedelta(seconds=n))
            n += 1
        return n

    try:
        for n in range(5):
            await collect(store, f"HS-B{n}", "counter", T0)
        for projection in projections():  # the live rows go into the backup too
            await ProjectionRunner(store, store, projection).catch_up()
        before = (await store.head()).position
        writer = asyncio.create_task(keep_writing())
        await asyncio.sleep(0.2)
        made = await backup(Config(store_url=store_url), tmp_path / "citysettle.backup")
        await asyncio.sleep(0.2)
        writing = False
        written = await writer
        after = (await store.head()).position
        (row,) = await store.read_log(made.head.position - 1, 1)
    finally:
        await store.close()
    assert written > 0
    assert before <= made.head.position <= after
    assert row.hash == made.head.hash  # the copy is the original's log up to one of its rows

    target = new_place(store_url, tmp_path)
    if target.startswith("sqlite://"):
        (tmp_path / "restored").mkdir()
    else:
        await admin(f'CREATE DATABASE "{target.rpartition("/")[2].partition("?")[0]}"')
    try:
        restored = citysettle("restore", "--from", str(made.path), "--store", target)
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["head_hash"] == made.head.hash.hex()

        verified = citysettle("audit", "verify", "--store", target)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        verdict = json.loads(verified.stdout)
        assert (verdict["verified_through"], verdict["head_hash"]) == (made.head.position, made.head.hash.hex())

        # The projections came in the same snapshot as the log: what they hold replays
        # identically; the events recorded after their last run are all they lack.
        replayed = citysettle("audit", "replay", "--store", target)
        assert replayed.returncode in (0, 3), replayed.stdout + replayed.stderr
        assert all(p["identical"] for p in json.loads(replayed.stdout)["projections"])
        await catch_up(target)  # as `serve` does when it starts on the restored store
        replayed = citysettle("audit", "replay", "--store", target)
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert json.loads(replayed.stdout)["status"] == "identical"

        again = citysettle("restore", "--from", str(made.path), "--store", target)
        assert again.returncode == 2
        assert again.stdout == ""
        assert len(again.stderr.strip().splitlines()) == 1
    finally:
        if not target.startswith("sqlite://"):
            await admin(f'DROP DATABASE IF EXISTS "{target.rpartition("/")[2].partition("?")[0]}" WITH (FORCE)')


async def catch_up(url: str) -> None:
    store = await open_store(Config(store_url=url))
    try:
        for projection in projections():
            await ProjectionRunner(store, store, projection).catch_up()
    finally:
        await store.close()


def test_backup_refuses_a_file_in_the_way_and_a_missing_store(store_url: str, tmp_path: Path) -> None:
    asyncio.run(catch_up(store_url))  # creates the store
    taken = tmp_path / "taken.backup"
    taken.write_bytes(b"an earlier backup")
    refused = citysettle("backup", "--store", store_url, "--out", str(taken))
    assert refused.returncode == 2
    assert refused.stderr == f"citysettle: {taken} exists; refusing to overwrite it: give a new file name\n"
    assert taken.read_bytes() == b"an earlier backup"

    missing = citysettle("backup", "--store", f"sqlite:///{tmp_path}/none.db", "--out", str(tmp_path / "n.backup"))
    assert missing.returncode == 2
    assert "no event store at" in missing.stderr
    assert not (tmp_path / "n.backup").exists()


@pytest.mark.postgres
def test_without_pg_dump_the_backup_says_what_to_install(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(catch_up(pg_url))
    monkeypatch.setattr(backups, "_installed", lambda name: [None])
    with pytest.raises(backups.BackupError, match=r"pg_dump for PostgreSQL \d+ or newer not found"):
        asyncio.run(backup(Config(store_url=pg_url), tmp_path / "pg.backup"))
    assert list(tmp_path.iterdir()) == []
