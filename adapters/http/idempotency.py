"""Writes over HTTP: a use case, its answer and the client's Idempotency-Key, stored at once.

The HTTP answer (status and body) is computed inside the use case, so the idempotency
record that the store writes in the same transaction as the events is exactly what the
client got. A retry with the same key and request replays it with
``Idempotent-Replayed: true`` and moves nothing; the same key with another request is
refused by the store (`IdempotencyKeyReused`, 422). A refused request stores nothing,
so retrying it runs it again.
"""

from __future__ import annotations

import base64
import hashlib
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


def name_from_key(prefix: str, client_id: str, idempotency_key: str) -> str:
    """The name a client's write under that Idempotency-Key gives what it creates."""
    digest = hashlib.sha256(f"{client_id}\n{idempotency_key}".encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def key_derived_id(call: Call, prefix: str) -> str:
    """A name for what a write creates, made from the client and its Idempotency-Key: a
    retry that somehow missed its idempotency record still names the same thing (an
    invoice, a ticket order), so it is found or refused instead of made twice."""
    assert call.request_key is not None, "made by a signed, idempotent call"
    return name_from_key(prefix, call.request_key.client_id, call.request_key.key)
