"""Writes over HTTP: a use case, its answer and the client's Idempotency-Key, stored at once.

The HTTP answer (status and body) is computed inside the use case, so the idempotency
record that the store writes in the same transaction as the events is exactly what the
client got. A retry with the same key and request replays it with
``Idempotent-Replayed: true`` and moves nothing; the same key with another request is
refused by the store (`IdempotencyKeyReused`, 422). A refused request stores nothing,
so retrying it runs it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from adapters.http.routing import Call, Reply
from domain.services.unit_of_work import UnitOfWork, UseCase, execute

REPLAYED_HEADER = "Idempotent-Replayed"
Render = Callable[[dict[str, Any]], tuple[int, Any]]
"""From a use case's result to the HTTP status and the answer (a msgspec Struct)."""


async def run_write(call: Call, use_case: UseCase, render: Render) -> Reply:
    async def answered(uow: UnitOfWork) -> dict[str, Any]:
        status, body = render(await use_case(uow))
        return {"status": status, "body": msgspec.to_builtins(body)}

    outcome = await execute(call.services.store, answered, call.request_key)
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else {}
    return Reply(outcome.result["status"], outcome.result["body"], headers)
