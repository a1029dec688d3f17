"""An auditor's own verifier, written from docs/AUDIT.md alone, against real exports.

Nothing below imports citysettle's hashing: the verifier uses only hashlib, struct, base64,
uuid and json, as the document tells an outsider to. The store is filled through the real
adapter (SQLite and PostgreSQL, plain and encrypted, non-ASCII topics and states) and
exported through the real command line, without the cipher key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import sqlite3
import struct
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from adapters.eventstore.codec import CodecOptions
from ops.cli.audit import EXIT_TAMPERED
from ops.config import Config
from ops.stores import open_store
from tests.support.aggregates import Vé, Wallet
from tests.support.cli import ROOT


def independent_chain(lines: list[dict[str, Any]]) -> list[str]:
    """docs/AUDIT.md, "The hash chain": every row's hash, recomputed from genesis."""
    prev = bytes(32)
    hashes = []
    for expected_position, row in enumerate(lines, start=1):
        assert row["position"] == expected_position
        topic = row["topic"].encode("utf-8")
        state = base64.b64decode(row["state_b64"], validate=True)
        data = (
            struct.pack(">QQ16sI", row["position"], row["version"], uuid.UUID(row["stream_id"]).bytes, len(topic))
            + topic
            + struct.pack(">I", len(state))
            + state
        )
        prev = hashlib.sha256(prev + data).digest()
        hashes.append(prev.hex())
    return hashes


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The auditor's environment: no cipher key, no configuration of the service.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSETTLE_")}
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args], capture_output=True, text=True, check=False, cwd=ROOT, env=env
    )


async def _seed(url: str, codec: CodecOptions) -> None:
    store = await open_store(Config(store_url=url, codec=codec))
    try:
        for i in range(6):
            wallet = Wallet(f"Nguyễn Thị Hương {i} — phường Hàng Bạc")
            wallet.credit(200_000 + i)
            await store.append(wallet.collect_events())
            await store.append(Vé(f"vé xe buýt số {i} ✓").collect_events())
    finally:
        await store.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_an_independent_verifier_reproduces_every_hash_of_an_export(store_url: str, encrypted: bool) -> None:
    codec = CodecOptions(cipher_key=AESCipher.create_key(32) if encrypted else None, compress=encrypted)
    await _seed(store_url, codec)

    done = _cli("export", "events", "--store", store_url)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]

    assert len(lines) == 18
    assert list(lines[0]) == ["position", "stream_id", "version", "topic", "state_b64", "hash"]
    assert any("Vé" in line["topic"] for line in lines), "a non-ASCII topic is part of the proof"
    states = b"".join(base64.b64decode(line["state_b64"]) for line in lines)
    assert ("Hương".encode() in states) is not encrypted, "plain stores hold UTF-8 states; encrypted ones do not"
    assert independent_chain(lines) == [line["hash"] for line in lines]

    verdict = _cli("audit", "verify", "--store", store_url)
    assert verdict.returncode == 0, verdict.stderr
    assert json.loads(verdict.stdout)["head_hash"] == lines[-1]["hash"]


def test_the_independent_verifier_notices_a_changed_byte(tmp_path: Path) -> None:
    """The verifier above can fail: one flipped state byte changes that row's hash."""
    lines = [
        {"position": 1, "stream_id": str(uuid.UUID(int=1)), "version": 1, "topic": "m:Vé.Phát_hành", "state_b64": ""}
    ]
    lines[0]["state_b64"] = base64.b64encode(b'{"a":1}').decode()
    first = independent_chain(lines)
    lines[0]["state_b64"] = base64.b64encode(b'{"a":2}').decode()
    assert independent_chain(lines) != first


def _seeded_sqlite(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "events.db"
    url = f"sqlite:///{path}"
    asyncio.run(_seed(url, CodecOptions()))
    return url, path


def _verdict(url: str) -> dict[str, Any]:
    done = _cli("audit", "verify", "--store", url)
    assert done.returncode == EXIT_TAMPERED, (done.stdout, done.stderr)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_verify_names_an_inserted_row(tmp_path: Path) -> None:
    url, path = _seeded_sqlite(tmp_path)
    with sqlite3.connect(path) as conn:
        for position in range(18, 3, -1):  # shift 4.. up by one, from the top so positions stay unique
            conn.execute("UPDATE events SET position = position + 1 WHERE position = ?", (position,))
        forged = uuid.uuid4().bytes
        conn.execute(
            "INSERT INTO events (position, stream_id, version, topic, state, hash) VALUES (4, ?, 1, ?, ?, ?)",
            (forged, "tests.support.aggregates:Wallet.Opened", b'{"owner":"mallory"}', bytes(32)),
        )
        conn.execute("UPDATE chain_head SET position = 19, hash = (SELECT hash FROM events WHERE position = 19)")
    report = _verdict(url)
    assert report["first_bad_position"] == 4
    assert report["verified_through"] == 3


def test_verify_names_the_lower_of_two_swapped_rows(tmp_path: Path) -> None:
    url, path = _seeded_sqlite(tmp_path)
    with sqlite3.connect(path) as conn:
        columns = "stream_id, version, topic, state, hash"
        row5 = conn.execute(f"SELECT {columns} FROM events WHERE position = 5").fetchone()
        row9 = conn.execute(f"SELECT {columns} FROM events WHERE position = 9").fetchone()
        conn.execute("DELETE FROM events WHERE position IN (5, 9)")
        insert = f"INSERT INTO events (position, {columns}) VALUES (?, ?, ?, ?, ?, ?)"
        conn.execute(insert, (5, *row9))
        conn.execute(insert, (9, *row5))
    report = _verdict(url)
    assert report["first_bad_position"] == 5
    assert report["reason"] == "hash does not match the row's contents"
