"""Offline audit: export the signed checkpoints with their public keys, and verify an
events export against them with no access to the store (docs/AUDIT.md).

A checkpoints export is JSON lines: first one ``{"type": "key", ...}`` line per public key
of the key ring, then one ``{"type": "checkpoint", ...}`` line per checkpoint in position
order. The keys travel with the checkpoints so the export is complete; an auditor who
trusts only their own copy of the keys passes it with ``--keyring`` instead."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.eventstore.chain import verify_chain
from adapters.eventstore.checkpoints import KeyRing, key_id_of
from domain.ports import Checkpoint, LogRecord
from ops.cli.audit_verdict import first_bad_signature, refuse_unknown_keys, write_verdict
from ops.cli.progress import progress
from ops.config import Config
from ops.stores import open_store


class ExportFileError(ValueError):
    """An export file is missing or is not what its option names: an operator error."""


async def export_checkpoints(config: Config, keyring: KeyRing, out: TextIO) -> int:
    store = await open_store(config, create=False, decodes=False)
    try:
        checkpoints = await store.checkpoints()
    finally:
        await store.close()
    refuse_unknown_keys(checkpoints, keyring)
    for key_id, raw in sorted(keyring.raw_keys().items()):
        _write(out, {"type": "key", "key_id": key_id, "public_key_b64": base64.b64encode(raw).decode("ascii")})
    for c in checkpoints:
        line = {
            "type": "checkpoint",
            "position": c.position,
            "hash": c.hash.hex(),
            "key_id": c.key_id,
            "signed_at_us": c.signed_at_us,
            "signature_b64": base64.b64encode(c.signature).decode("ascii"),
        }
        _write(out, line)
    return 0


def _write(out: TextIO, line: dict[str, Any]) -> None:
    out.write(json.dumps(line, separators=(",", ":")) + "\n")


async def verify_export(events: Path, checkpoints_file: Path, trusted: KeyRing | None, out: TextIO) -> int:
    """`audit verify` over files: the chain of ``events`` pinned to the checkpoints, whose
    signatures are checked under ``trusted`` or else under the keys the file carries."""
    exported_ring, checkpoints = read_checkpoints(checkpoints_file)
    keyring = trusted if trusted is not None else exported_ring
    refuse_unknown_keys(checkpoints, keyring)
    bad_signature = first_bad_signature(checkpoints, keyring)
    pins = {c.position: c.hash for c in checkpoints}
    with _open(events) as lines, progress("verify", None) as advance:
        head, broken = await verify_chain(_ExportReader(events, lines), pins=pins, on_page=advance)
    problems = [] if broken is None else [(broken.position, broken.reason)]
    if bad_signature is not None:
        problems.append(bad_signature)
    return write_verdict(out, head, problems, len(checkpoints), bad_signature is None)


def read_checkpoints(path: Path) -> tuple[KeyRing, list[Checkpoint]]:
    keys: dict[str, Ed25519PublicKey] = {}
    checkpoints: list[Checkpoint] = []
    with _open(path) as lines:
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
                if entry["type"] == "key":
                    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public_key_b64"], validate=True))
                    if key_id_of(key) != entry["key_id"]:
                        raise ValueError(f"key id {entry['key_id']} is not the id of its public key")
                    keys[entry["key_id"]] = key
                else:
                    checkpoints.append(_checkpoint(entry))
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                raise ExportFileError(
                    f"line {number} of {path} is not an exported checkpoint or key ({_why(exc)}); "
                    "give the output of `citysettle export checkpoints`"
                ) from None
    return KeyRing(keys), sorted(checkpoints, key=lambda c: c.position)


def _checkpoint(entry: dict[str, Any]) -> Checkpoint:
    if entry["type"] != "checkpoint":
        raise ValueError(f"unknown type {entry['type']!r}")
    return Checkpoint(
        _int(entry["position"]),
        bytes.fromhex(entry["hash"]),
        str(entry["key_id"]),
        _int(entry["signed_at_us"]),
        base64.b64decode(entry["signature_b64"], validate=True),
    )


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value


def _why(exc: Exception) -> str:
    return f"missing {exc}" if isinstance(exc, KeyError) else str(exc)


def _open(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise ExportFileError(f"cannot read {path}: {exc.strerror}") from None


class _ExportReader:
    """`verify_chain` reads pages in order, each after the last position it got; the file
    is read the same way, one page at a time, so an export of any size fits in memory."""

    def __init__(self, path: Path, lines: TextIO) -> None:
        self._path = path
        self._lines: Iterator[tuple[int, str]] = enumerate(lines, start=1)

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        page = []
        for number, line in self._lines:
            page.append(self._record(number, line))
            if len(page) == limit:
                break
        return page

    def _record(self, number: int, line: str) -> LogRecord:
        try:
            row = json.loads(line)
            return LogRecord(
                _int(row["position"]),
                UUID(row["stream_id"]),
                _int(row["version"]),
                str(row["topic"]),
                base64.b64decode(row["state_b64"], validate=True),
                bytes.fromhex(row["hash"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ExportFileError(
                f"line {number} of {self._path} is not an exported event ({_why(exc)}); "
                "give the output of `citysettle export events`"
            ) from None
