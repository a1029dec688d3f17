"""The fast transcoder writes exactly the bytes eventsourcing's own would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
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


# JSON values as anyone could have written them, typed objects included: marker keys
# whose data is not a string, marker names as plain values, markers nested in markers.
markers = st.sampled_from(["_type_", "_data_"])
raw_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6) | markers,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4) | markers, children, max_size=3)
        | st.builds(lambda data: {"_type_": "uuid_hex", "_data_": data}, st.uuids().map(lambda u: u.hex))
        | st.builds(lambda data: {"_type_": "decimal_str", "_data_": data}, st.decimals(allow_nan=False).map(str))
        | st.builds(lambda data: {"_type_": "nested", "_data_": data}, children)
    ),
    max_leaves=10,
)


def decoded(transcoder: JSONTranscoder, data: bytes) -> object:
    try:
        return transcoder.decode(data)
    except Exception as exc:  # the same refusal is as good as the same value
        return type(exc)


@given(raw_json, st.booleans())
def test_reads_any_json_as_the_stock_transcoder_does(value: object, ascii_only: bool) -> None:
    stock, fast = transcoders()
    # "nested" is no registered name: both must refuse it alike. ensure_ascii spells keys
    # and text with escapes, which must not hide a typed object either.
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert decoded(fast, data) == decoded(stock, data)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_reads_what_it_wrote_as_the_stock_transcoder_does(state: dict[str, object]) -> None:
    stock, fast = transcoders()
    data = fast.encode(state)
    assert fast.decode(data) == stock.decode(data) == state


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":NaN,"at":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+00:00"}}',
        b'{"a":1e400}',
        b'{"a":"\\ud800"}',
        b'{"\\u005ftype_":"uuid_hex","_data_":"00000000000000000000000000000007"}',
        b'{"k":{"_type_":"uuid_hex","_data_":"00000000000000000000000000000007"},"v":"_type_"}',
        b'{"_type_":"uuid_hex","_data_":"00000000000000000000000000000007"}',
        b'{"k":{"_type_":"unknown","_data_":"x"}}',
        b'{"a":1}x',
        b"\xff",
    ],
)
def test_what_msgspec_refuses_or_the_count_misses_is_read_as_the_stock_one_reads_it(data: bytes) -> None:
    stock, fast = transcoders()
    assert decoded(fast, data) == decoded(stock, data)
