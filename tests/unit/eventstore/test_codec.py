"""The fast transcoder writes exactly the bytes eventsourcing's own would."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given
from hypothesis import strategies as st

from adapters.eventstore.codec import FastJSONTranscoder

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.uuids() | st.datetimes(timezones=st.just(UTC)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def transcoders() -> tuple[JSONTranscoder, JSONTranscoder]:
    pair = (JSONTranscoder(), FastJSONTranscoder())
    for transcoder in pair:
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
            transcoder.register(transcoding)
    return pair


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_same_bytes_as_the_stock_transcoder(state: dict[str, object]) -> None:
    stock, fast = transcoders()
    assert fast.encode(state) == stock.encode(state)
    assert fast.decode(fast.encode(state)) == state


def test_vietnamese_text_and_custom_types() -> None:
    stock, fast = transcoders()
    state = {"owner": "Nguyễn Văn Ánh", "id": UUID(int=7), "at": datetime(2026, 1, 1, tzinfo=UTC), "d": Decimal("1.5")}
    assert fast.encode(state) == stock.encode(state)
    assert "Nguyễn".encode() in fast.encode(state)
