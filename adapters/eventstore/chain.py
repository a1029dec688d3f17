"""The tamper-evident hash chain over the global log.

Each row carries ``hash = SHA-256(prev_hash || canonical row bytes)`` in position order,
starting from 32 zero bytes. The hash covers the bytes as stored (ciphertext when
encrypted), so an auditor can verify integrity without holding the decryption key.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from adapters.eventstore.codec import EncodedEvent
from domain.ports import ChainHead, LogRecord

GENESIS_HASH = bytes(32)
_HEADER = struct.Struct(">QQ16sI")
_LEN = struct.Struct(">I")


def canonical_row_bytes(position: int, stream_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """Fixed, length-prefixed layout: no two different rows share the same bytes."""
    topic_bytes = topic.encode("utf-8")
    return b"".join(
        (
            _HEADER.pack(position, version, stream_id.bytes, len(topic_bytes)),
            topic_bytes,
            _LEN.pack(len(state)),
            state,
        )
    )


def chain_hash(prev_hash: bytes, position: int, row: EncodedEvent) -> bytes:
    data = canonical_row_bytes(position, row.stream_id, row.version, row.topic, row.state)
    return hashlib.sha256(prev_hash + data).digest()


def record_hash(prev_hash: bytes, record: LogRecord) -> bytes:
    data = canonical_row_bytes(record.position, record.stream_id, record.version, record.topic, record.state)
    return hashlib.sha256(prev_hash + data).digest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first position whose stored hash or predecessor does not match."""

    position: int
    reason: str


def verify_records(prev: ChainHead, records: list[LogRecord]) -> tuple[ChainHead, ChainBreak | None]:
    """Continue the chain from ``prev`` over ``records``; stop at the first break."""
    for record in records:
        if record.position != prev.position + 1:
            return prev, ChainBreak(prev.position + 1, f"gap: next stored position is {record.position}")
        expected = record_hash(prev.hash, record)
        if expected != record.hash:
            return prev, ChainBreak(record.position, "hash does not match the row's contents")
        prev = ChainHead(record.position, expected)
    return prev, None


@dataclass(frozen=True, slots=True)
class PlannedRow:
    position: int
    row: EncodedEvent
    hash: bytes


def extend_chain(
    head: ChainHead, appends: list[list[EncodedEvent]]
) -> tuple[list[PlannedRow], list[tuple[int, int]], ChainHead]:
    """Give each append's rows the next positions and chain hashes.

    Returns the planned rows, each append's ``(first, last)`` positions (``(0, 0)`` when
    it has no events) and the new head.
    """
    planned: list[PlannedRow] = []
    ranges: list[tuple[int, int]] = []
    position, prev_hash = head.position, head.hash
    for rows in appends:
        first = position + 1
        for row in rows:
            position += 1
            prev_hash = chain_hash(prev_hash, position, row)
            planned.append(PlannedRow(position, row, prev_hash))
        ranges.append((first, position) if rows else (0, 0))
    return planned, ranges, ChainHead(position, prev_hash)


class LogReader(Protocol):
    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]: ...


async def verify_chain(
    store: LogReader,
    page_size: int = 5_000,
    pins: Mapping[int, bytes] | None = None,
    on_page: Callable[[int], object] | None = None,
) -> tuple[ChainHead, ChainBreak | None]:
    """Recompute the whole chain from genesis; return the last good head and the first
    break. ``pins`` are trusted ``position -> hash`` pairs (verified checkpoints): a
    chain that is consistent in itself but differs from a pin was rewritten.
    ``on_page`` is told how many rows each page held (a progress bar)."""
    pins = pins or {}
    head = ChainHead(0, GENESIS_HASH)
    while records := await store.read_log(head.position, page_size):
        if on_page is not None:
            on_page(len(records))
        prev = head
        head, broken = verify_records(head, records)
        if broken is not None:
            return head, broken
        for position in sorted(p for p in pins if prev.position < p <= head.position):
            index = position - prev.position - 1
            if records[index].hash != pins[position]:
                last_good = ChainHead(position - 1, records[index - 1].hash if index else prev.hash)
                return last_good, ChainBreak(position, "differs from a signed checkpoint")
    beyond = [p for p in pins if p > head.position]
    if beyond:
        return head, ChainBreak(head.position + 1, f"log ends before the signed checkpoint at {min(beyond)}")
    return head, None
