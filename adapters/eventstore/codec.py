"""Encoding of events into rows.

Events go through eventsourcing's own `Mapper` with a `JSONTranscoder` (optionally zlib
and AES-GCM), so every stored ``(topic, state)`` pair stays readable by that library's
tools.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.compressor import ZlibCompressor
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

from domain.ports import LogRecord


@dataclass(frozen=True, slots=True)
class CodecOptions:
    """``cipher_key`` is base64 of a 16/24/32-byte AES key (see `AESCipher.create_key`)."""

    compress: bool = False
    cipher_key: str | None = field(default=None, repr=False)  # a secret: never in logs


class FastJSONTranscoder(JSONTranscoder):
    """`JSONTranscoder` whose C encoder is built once (the stdlib's `JSONEncoder.encode`
    builds a new one on every call: ~1 µs per event). Same bytes out, since it is made
    with the parent's settings (compact separators, ``ensure_ascii=False``); decoding
    is inherited. Without the C accelerator it simply behaves like its parent."""

    def __init__(self) -> None:
        super().__init__()
        make_encoder = getattr(json.encoder, "c_make_encoder", None)
        self._iterencode = None
        if make_encoder is not None:
            # (markers, default, encoder, indent, key sep, item sep, sort_keys, skipkeys, allow_nan)
            self._iterencode = make_encoder(
                None, self._encode_obj, json.encoder.encode_basestring, None, ":", ",", False, False, True
            )

    def encode(self, obj: Any) -> bytes:
        if self._iterencode is None:
            return super().encode(obj)
        return "".join(self._iterencode(obj, 0)).encode("utf8")


def build_mapper(options: CodecOptions) -> Mapper[UUID]:
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
        transcoder.register(transcoding)
    cipher = None
    if options.cipher_key:
        cipher = AESCipher(Environment(env={AESCipher.CIPHER_KEY: options.cipher_key}))
    compressor = ZlibCompressor() if options.compress else None
    return Mapper(transcoder=transcoder, compressor=compressor, cipher=cipher)


class EncodedEvent(NamedTuple):
    """A row waiting for its global position: what the writer thread/task needs."""

    stream_id: UUID
    version: int
    topic: str
    state: bytes


def encode_events(mapper: Mapper[UUID], events: Iterable[DomainEventProtocol[UUID]]) -> list[EncodedEvent]:
    rows = []
    for event in events:
        stored = mapper.to_stored_event(event)
        stream_id = stored.originator_id
        assert isinstance(stream_id, UUID), "aggregates are identified by UUID"
        rows.append(EncodedEvent(stream_id, stored.originator_version, stored.topic, stored.state))
    return rows


def decode_record(mapper: Mapper[UUID], record: LogRecord) -> DomainEventProtocol[UUID]:
    stored = StoredEvent(record.stream_id, record.version, record.topic, record.state)
    return mapper.to_domain_event(stored)
