"""Projection rows kept in memory: for replaying a projection from the log to compare
it with the stored one, without touching the store."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from domain.ports import JSONValue, TrackingConflict


class InMemoryProjectionStore:
    def __init__(self) -> None:
        self._rows: dict[str, dict[str, JSONValue]] = {}
        self._positions: dict[str, int] = {}

    async def tracking_position(self, projection: str) -> int:
        return self._positions.get(projection, 0)

    async def get_rows(self, projection: str, keys: Sequence[str]) -> dict[str, JSONValue]:
        rows = self._rows.get(projection, {})
        # Copies, as a database would hand out: a projection may mutate what it read.
        return {k: copy.deepcopy(rows[k]) for k in keys if k in rows}

    async def all_rows(self, projection: str) -> dict[str, JSONValue]:
        return copy.deepcopy(dict(sorted(self._rows.get(projection, {}).items())))

    async def commit_projection(
        self, projection: str, from_position: int, to_position: int, rows: Mapping[str, JSONValue | None]
    ) -> None:
        if self._positions.get(projection, 0) != from_position:
            raise TrackingConflict(f"projection {projection} is no longer at position {from_position}")
        table = self._rows.setdefault(projection, {})
        for key, value in rows.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = copy.deepcopy(value)
        self._positions[projection] = to_position
