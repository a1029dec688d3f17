"""The group commit's batch sizing: half of what is in play, within its bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.eventstore.batch_sizing import BatchSizing


def test_a_cold_writer_takes_everything_queued() -> None:
    assert BatchSizing(2048).target(queued=50, coming_back=0, answered=0) == 50


def test_half_of_what_is_in_play() -> None:
    sizing = BatchSizing(2048)
    assert sizing.target(queued=128, coming_back=128, answered=128) == 128
    assert sizing.target(queued=200, coming_back=56, answered=128) == 128
    assert sizing.target(queued=1000, coming_back=1000, answered=1000) == 1000  # grows with the queue


def test_a_lockstep_is_split() -> None:
    assert BatchSizing(2048).target(queued=256, coming_back=0, answered=256) == 128


def test_the_hard_bound_and_at_least_one() -> None:
    sizing = BatchSizing(100)
    assert sizing.target(queued=5000, coming_back=5000, answered=100) == 100
    assert sizing.target(queued=1, coming_back=0, answered=1) == 1


@given(st.integers(1, 5000), st.integers(0, 20000), st.integers(0, 20000), st.integers(0, 20000))
def test_the_target_is_within_its_bounds(max_events: int, queued: int, coming_back: int, answered: int) -> None:
    assert 1 <= BatchSizing(max_events).target(queued, coming_back, answered) <= max_events
