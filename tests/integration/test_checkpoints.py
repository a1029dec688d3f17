"""Signed checkpoints catch what the row chain alone cannot: a rewritten tail."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.eventstore.chain import GENESIS_HASH, chain_hash
from adapters.eventstore.checkpoints import CheckpointSigner, KeyRing, write_new_key
from adapters.eventstore.codec import EncodedEvent
from ops.checkpointing import checkpoint_once
from ops.cli.audit import EXIT_NO_STORE, EXIT_TAMPERED, UnknownCheckpointKey, verify
from ops.config import Config
from ops.stores import open_store
from tests.support.aggregates import Wallet
from tests.support.cli import citysettle


async def _seed_and_checkpoint(url: str, tmp_path: Path) -> KeyRing:
    write_new_key(tmp_path / "k.pem", tmp_path / "ring.json")
    signer = CheckpointSigner.from_pem_file(tmp_path / "k.pem")
    store = await open_store(Config(store_url=url))
    for i in range(5):
        await store.append(Wallet(f"c{i}").collect_events())
    first = await checkpoint_once(store, signer, 0, clock_us=lambda: 1)
    assert first is not None
    assert await checkpoint_once(store, signer, first.position, clock_us=lambda: 2) is None  # no growth
    for i in range(5):
        await store.append(Wallet(f"d{i}").collect_events())
    assert await checkpoint_once(store, signer, first.position, clock_us=lambda: 3) is not None
    assert [c.position for c in await store.checkpoints()] == [5, 10]
    await store.close()
    return KeyRing.from_json_file(tmp_path / "ring.json")


async def _report(url: str, ring: KeyRing | None) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = await verify(Config(store_url=url), out, ring)
    return code, json.loads(out.getvalue())


async def test_intact_history_with_checkpoints(store_url: str, tmp_path: Path) -> None:
    ring = await _seed_and_checkpoint(store_url, tmp_path)
    code, report = await _report(store_url, ring)
    assert code == 0
    assert report["checkpoints"] == 2
    assert report["checkpoints_verified"] is True


async def test_rewritten_tail_with_recomputed_hashes_is_caught(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/e.db"
    ring = await _seed_and_checkpoint(url, tmp_path)
    with sqlite3.connect(tmp_path / "e.db") as conn:
        conn.execute('UPDATE events SET state = CAST(\'{"owner":"mallory"}\' AS BLOB) WHERE position = 3')
        _rehash(conn)
        conn.execute("UPDATE chain_head SET hash = (SELECT hash FROM events WHERE position = 10)")

    code, report = await _report(url, None)
    assert code == 0, "without trusted keys the rewritten chain is self-consistent"
    code, report = await _report(url, ring)
    assert code == EXIT_TAMPERED
    assert report["first_bad_position"] == 5
    assert report["reason"] == "differs from a signed checkpoint"


async def test_forged_checkpoint_is_caught(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/f.db"
    ring = await _seed_and_checkpoint(url, tmp_path)
    with sqlite3.connect(tmp_path / "f.db") as conn:
        conn.execute("UPDATE checkpoints SET signed_at_us = 99 WHERE position = 10")
    code, report = await _report(url, ring)
    assert code == EXIT_TAMPERED
    assert report["first_bad_position"] == 10
    assert report["reason"] == "checkpoint signature does not verify"
    assert report["checkpoints_verified"] is False


async def test_truncated_log_is_caught(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/g.db"
    ring = await _seed_and_checkpoint(url, tmp_path)
    with sqlite3.connect(tmp_path / "g.db") as conn:
        conn.execute("DELETE FROM events WHERE position > 7")
        conn.execute("UPDATE chain_head SET position = 7, hash = (SELECT hash FROM events WHERE position = 7)")
    code, report = await _report(url, ring)
    assert code == EXIT_TAMPERED
    assert report["first_bad_position"] == 8


def _rehash(conn: sqlite3.Connection) -> None:
    prev = GENESIS_HASH
    rows = conn.execute("SELECT position, stream_id, version, topic, state FROM events ORDER BY position").fetchall()
    for position, stream_id, version, topic, state in rows:
        prev = chain_hash(prev, position, EncodedEvent(UUID(bytes=stream_id), version, topic, bytes(state)))
        conn.execute("UPDATE events SET hash = ? WHERE position = ?", (prev, position))


async def test_a_keyring_without_the_signing_key_is_an_operator_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/h.db"
    await _seed_and_checkpoint(url, tmp_path)
    kid = write_new_key(tmp_path / "other.pem", tmp_path / "other.json")
    first = (await _checkpoints(url))[0]
    expected = f"checkpoint at position 5 is signed by key {first.key_id}, which is not in the keyring"
    assert first.key_id != kid
    with pytest.raises(UnknownCheckpointKey, match=f"^{re.escape(expected)}"):
        await verify(Config(store_url=url), io.StringIO(), KeyRing.from_json_file(tmp_path / "other.json"))
    done = citysettle("audit", "verify", "--store", url, "--keyring", str(tmp_path / "other.json"))
    assert done.returncode == EXIT_NO_STORE
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == "", "no tampered verdict is given"


async def _checkpoints(url: str) -> list[Any]:
    store = await open_store(Config(store_url=url))
    try:
        return list(await store.checkpoints())
    finally:
        await store.close()
