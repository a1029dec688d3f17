"""`citysettle export checkpoints` and `audit verify --from-export`: an export verified
offline, chain and signatures, with the same verdicts and exit codes as on the store."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.eventstore.chain import GENESIS_HASH, record_hash
from adapters.eventstore.checkpoints import CheckpointSigner, key_id_of, write_new_key
from domain.ports import ChainHead, LogRecord
from ops.checkpointing import checkpoint_once
from ops.cli.audit import EXIT_NO_STORE, EXIT_TAMPERED
from ops.config import Config
from ops.stores import open_store
from tests.support.aggregates import Vé
from tests.support.cli import citysettle

Lines = list[dict[str, Any]]


async def _seed_and_checkpoint(url: str, tmp_path: Path) -> Path:
    """Ten events with checkpoints at 5 and 10; returns the key ring file."""
    write_new_key(tmp_path / "k.pem", tmp_path / "ring.json")
    signer = CheckpointSigner.from_pem_file(tmp_path / "k.pem")
    store = await open_store(Config(store_url=url))
    try:
        for batch in range(2):
            for i in range(5):
                await store.append(Vé(f"vé {batch}-{i} đã bán").collect_events())
            assert await checkpoint_once(store, signer, 0) is not None
    finally:
        await store.close()
    return tmp_path / "ring.json"


def _export(url: str, ring: Path, tmp_path: Path) -> tuple[Path, Path]:
    events, checkpoints = tmp_path / "events.jsonl", tmp_path / "checkpoints.jsonl"
    for command, target in ((["events"], events), (["checkpoints", "--keyring", str(ring)], checkpoints)):
        done = citysettle("export", *command, "--store", url)
        assert done.returncode == 0, done.stderr
        target.write_text(done.stdout, encoding="utf-8")
    return events, checkpoints


def _verify(events: Path, checkpoints: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = citysettle("audit", "verify", "--from-export", str(events), "--checkpoints", str(checkpoints), *extra)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout else {"stderr": done.stderr}


def _read(path: Path) -> Lines:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, lines: Lines) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


async def test_an_intact_export_verifies_offline(store_url: str, tmp_path: Path) -> None:
    ring = await _seed_and_checkpoint(store_url, tmp_path)
    events, checkpoints = _export(store_url, ring, tmp_path)

    code, report = _verify(events, checkpoints)
    assert code == 0, report
    assert report["status"] == "intact"
    assert report["verified_through"] == 10
    assert (report["checkpoints"], report["checkpoints_verified"]) == (2, True)
    assert report["head_hash"] == _read(events)[-1]["hash"]
    assert _verify(events, checkpoints, "--keyring", str(ring))[0] == 0


async def test_the_checkpoints_export_is_as_docs_audit_describes(tmp_path: Path) -> None:
    """Keys first (key id = ed25519: + 16 hex of SHA-256 of the raw key), then checkpoints;
    each signature verifies over the documented message, with cryptography alone."""
    url = f"sqlite:///{tmp_path}/a.db"
    ring = await _seed_and_checkpoint(url, tmp_path)
    events, checkpoints = _export(url, ring, tmp_path)
    lines = _read(checkpoints)
    assert [line["type"] for line in lines] == ["key", "checkpoint", "checkpoint"]
    raw = base64.b64decode(lines[0]["public_key_b64"])
    assert lines[0]["key_id"] == key_id_of(Ed25519PublicKey.from_public_bytes(raw))
    hashes = {line["position"]: line["hash"] for line in _read(events)}
    for c in lines[1:]:
        assert list(c) == ["type", "position", "hash", "key_id", "signed_at_us", "signature_b64"]
        assert c["hash"] == hashes[c["position"]]
        message = (
            b"citysettle/checkpoint/v1\x00"
            + struct.pack(">Q32sQ", c["position"], bytes.fromhex(c["hash"]), c["signed_at_us"])
            + c["key_id"].encode()
        )
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(c["signature_b64"]), message)


def _rehash(lines: Lines) -> None:
    prev = GENESIS_HASH
    for line in lines:
        record = LogRecord(
            line["position"],
            UUID(line["stream_id"]),
            line["version"],
            line["topic"],
            base64.b64decode(line["state_b64"]),
            b"",
        )
        prev = record_hash(prev, record)
        line["hash"] = prev.hex()


def _alter_state(lines: Lines) -> None:
    lines[2]["state_b64"] = base64.b64encode(b'{"ghi_ch\\u00fa":"mallory"}').decode()


def _rewrite_and_rehash(lines: Lines) -> None:
    _alter_state(lines)
    _rehash(lines)


def _swap_rows_2_and_6(lines: Lines) -> None:
    """Two rows trade places; each keeps the position of the place it moved to."""
    lines[1], lines[5] = {**lines[5], "position": 2}, {**lines[1], "position": 6}


TAMPERINGS: dict[str, tuple[Callable[[Lines], object], int, str]] = {
    "modified": (_alter_state, 3, "hash does not match the row's contents"),
    "deleted": (lambda lines: lines.pop(3), 4, "gap: next stored position is 5"),
    "swapped": (_swap_rows_2_and_6, 2, "hash does not match the row's contents"),
    "rehashed": (_rewrite_and_rehash, 5, "differs from a signed checkpoint"),
    "truncated": (lambda lines: lines.__delitem__(slice(7, None)), 8, "log ends before the signed checkpoint at 10"),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
async def test_a_tampered_export_names_the_first_bad_position(tmp_path: Path, tampering: str) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    events, checkpoints = _export(url, await _seed_and_checkpoint(url, tmp_path), tmp_path)
    change, position, reason = TAMPERINGS[tampering]
    lines = _read(events)
    change(lines)
    _write(events, lines)

    code, report = _verify(events, checkpoints)
    assert code == EXIT_TAMPERED
    assert (report["status"], report["first_bad_position"], report["reason"]) == ("tampered", position, reason)


async def test_an_altered_checkpoint_fails_its_signature(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    events, checkpoints = _export(url, await _seed_and_checkpoint(url, tmp_path), tmp_path)
    lines = _read(checkpoints)
    lines[2]["signed_at_us"] += 1
    _write(checkpoints, lines)
    code, report = _verify(events, checkpoints)
    assert code == EXIT_TAMPERED
    assert (report["first_bad_position"], report["reason"]) == (10, "checkpoint signature does not verify")
    assert report["checkpoints_verified"] is False


async def test_checkpoints_resigned_with_another_key_are_refused_by_a_trusted_keyring(tmp_path: Path) -> None:
    """Keys inside the file only prove the file is whole; a forger can replace them. Given
    the auditor's own key ring, the forger's key is unknown: exit 2, no verdict."""
    url = f"sqlite:///{tmp_path}/f.db"
    ring = await _seed_and_checkpoint(url, tmp_path)
    events, checkpoints = _export(url, ring, tmp_path)
    forger = CheckpointSigner(key_id_of((k := Ed25519PrivateKey.generate()).public_key()), k)
    lines = _read(events)
    _rewrite_and_rehash(lines)
    _write(events, lines)
    raw = base64.b64encode(forger.private_key.public_key().public_bytes_raw()).decode()
    forged: Lines = [{"type": "key", "key_id": forger.key_id, "public_key_b64": raw}]
    for position in (5, 10):
        c = forger.sign(_head(lines, position), 1)
        forged.append(
            {
                "type": "checkpoint",
                "position": c.position,
                "hash": c.hash.hex(),
                "key_id": c.key_id,
                "signed_at_us": c.signed_at_us,
                "signature_b64": base64.b64encode(c.signature).decode(),
            }
        )
    _write(checkpoints, forged)

    assert _verify(events, checkpoints)[0] == 0, "self-consistent without a trusted key ring"
    code, report = _verify(events, checkpoints, "--keyring", str(ring))
    assert code == EXIT_NO_STORE
    assert f"signed by key {forger.key_id}, which is not in the keyring" in report["stderr"]


def _head(lines: Lines, position: int) -> ChainHead:
    return ChainHead(position, bytes.fromhex(lines[position - 1]["hash"]))


def _one_line_error(done: Any, expected: str) -> None:
    assert done.returncode == EXIT_NO_STORE
    assert done.stdout == ""
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


async def test_operator_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/o.db"
    events, checkpoints = _export(url, await _seed_and_checkpoint(url, tmp_path), tmp_path)
    missing = str(tmp_path / "missing.jsonl")
    verify = ("audit", "verify", "--from-export")
    _one_line_error(citysettle(*verify, missing, "--checkpoints", str(checkpoints)), f"cannot read {missing}")
    _one_line_error(citysettle(*verify, str(events)), "give --checkpoints FILE")
    _one_line_error(citysettle(*verify, str(checkpoints), "--checkpoints", str(checkpoints)), "line 1 of")
    _one_line_error(
        citysettle(*verify, str(events), "--checkpoints", str(events)), "is not an exported checkpoint or key"
    )
    _one_line_error(citysettle("export", "checkpoints", "--store", url), "give --keyring FILE")
    _one_line_error(
        citysettle("export", "checkpoints", "--store", url, "--keyring", missing), "the checkpoint key ring"
    )


async def test_verify_with_a_missing_keyring_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    await _seed_and_checkpoint(url, tmp_path)
    missing = str(tmp_path / "nowhere.json")
    _one_line_error(citysettle("audit", "verify", "--store", url, "--keyring", missing), "cannot be read")
