"""Property tests of the hash chain: it verifies as written, any change is found."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from adapters.eventstore.chain import GENESIS_HASH, extend_chain, verify_records
from adapters.eventstore.codec import EncodedEvent
from domain.ports import ChainHead, LogRecord

events = st.builds(
    EncodedEvent,
    stream_id=st.uuids(),
    version=st.integers(1, 2**40),
    topic=st.text(min_size=1, max_size=30),
    state=st.binary(max_size=60),
)
appends = st.lists(st.lists(events, max_size=4), min_size=1, max_size=6)


def write(batches: list[list[list[EncodedEvent]]]) -> list[LogRecord]:
    head = ChainHead(0, GENESIS_HASH)
    out: list[LogRecord] = []
    for batch in batches:
        planned, _, head = extend_chain(head, batch)
        out += [
            LogRecord(p.position, p.row.stream_id, p.row.version, p.row.topic, p.row.state, p.hash) for p in planned
        ]
    return out


@given(st.lists(appends, min_size=1, max_size=4))
def test_chain_written_in_batches_verifies(batches: list[list[list[EncodedEvent]]]) -> None:
    records = write(batches)
    head, broken = verify_records(ChainHead(0, GENESIS_HASH), records)
    assert broken is None
    assert head.position == len(records)
    assert [r.position for r in records] == list(range(1, len(records) + 1))


@given(appends, st.data())
def test_any_single_field_change_is_found_at_its_position(batch: list[list[EncodedEvent]], data: st.DataObject) -> None:
    records = write([batch])
    if not records:
        return
    i = data.draw(st.integers(0, len(records) - 1))
    original = records[i]
    field = data.draw(st.sampled_from(["stream_id", "version", "topic", "state"]))
    new_value: Any = {
        "stream_id": UUID(int=original.stream_id.int ^ 1),
        "version": original.version + 1,
        "topic": original.topic + "x",
        "state": original.state + b"\x00",
    }[field]
    records[i] = dataclasses.replace(original, **{field: new_value})
    _, broken = verify_records(ChainHead(0, GENESIS_HASH), records)
    assert broken is not None
    assert broken.position == original.position
