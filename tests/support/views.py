"""A projection's rows in a dict (the `ProjectionView` port), for pure projection tests."""

from __future__ import annotations

import copy

from domain.ports import JSONValue


class FakeView:
    """A projection's rows in a dict; reads return copies, as the store's would."""

    def __init__(self) -> None:
        self.rows: dict[str, JSONValue] = {}

    async def get(self, key: str) -> JSONValue | None:
        return copy.deepcopy(self.rows.get(key))

    def put(self, key: str, value: JSONValue) -> None:
        self.rows[key] = copy.deepcopy(value)

    def delete(self, key: str) -> None:
        self.rows.pop(key, None)
