from __future__ import annotations

import pytest

from domain.ports import TrackingConflict
from domain.services.memory_projections import InMemoryProjectionStore


async def test_rows_and_position_move_together_and_reads_are_copies() -> None:
    rows = InMemoryProjectionStore()
    await rows.commit_projection("p", 0, 3, {"a": {"n": 1}, "b": 2})
    read = await rows.get_rows("p", ["a", "missing"])
    read["a"]["n"] = 99
    assert await rows.get_rows("p", ["a"]) == {"a": {"n": 1}}
    with pytest.raises(TrackingConflict):
        await rows.commit_projection("p", 0, 4, {"a": None})
    await rows.commit_projection("p", 3, 4, {"a": None})
    assert await rows.all_rows("p") == {"b": 2}
    assert await rows.tracking_position("p") == 4
