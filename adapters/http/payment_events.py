"""``GET /v1/payments/{payment_id}/events``: server-sent events of a payment's changes.

Each event's ``id`` is the payment's version and its ``data`` the payment's JSON (as
``GET /v1/payments/{id}``). A client that reconnects with ``Last-Event-ID`` gets only
what changed after it. The stream ends once the payment is no longer pending, and in
any case after ``STREAM_MAX_S`` (the client reconnects with its last id); a comment
line every ``HEARTBEAT_S`` keeps proxies from closing a quiet stream. It waits on the
process's one follower of the log (`StreamWatch`), which wakes it only when this
payment changed: the payment is not polled. The counter page's stream
(`adapters.web.counter`) is made of the same `payment_updates`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from aiohttp import web

from adapters.http.payments import PAYERS, load_payment, payment_uuid, shown
from adapters.http.routing import Call, Route
from domain.model.payments import Payment, PaymentStatus

STREAM_MAX_S = 300.0
HEARTBEAT_S = 15.0
RETRY_MS = 3_000


def last_event_id(request: web.Request) -> int:
    """The version the client saw last (``Last-Event-ID``); 0 when it names none."""
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


async def payment_updates(
    changed: asyncio.Event,
    reload: Callable[[], Awaitable[Payment]],
    payment: Payment,
    sent: int,
    *,
    deadline: float,
    final: Callable[[Payment], bool],
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[Payment | None]:
    """The payment each time its version passes ``sent`` (``None`` after ``heartbeat_s``
    without one), until ``final(payment)`` or the monotonic ``deadline``. ``changed`` is
    the payment's `StreamWatch` event, registered before ``payment`` was loaded."""
    while True:
        if payment.version > sent:
            yield payment
            sent = payment.version
        remaining_s = deadline - time.monotonic()
        if final(payment) or remaining_s <= 0:
            return
        try:
            await asyncio.wait_for(changed.wait(), min(heartbeat_s, remaining_s))
        except TimeoutError:
            yield None
            continue
        changed.clear()
        payment = await reload()


def _settled(payment: Payment) -> bool:
    return payment.status is not PaymentStatus.PENDING


async def events(call: Call) -> web.StreamResponse:
    stream_id = payment_uuid(call.param("payment_id"))
    async with call.services.changes.watching(stream_id) as changed:
        payment = await load_payment(call)  # 404 before the stream starts
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(call.request)
        updates = payment_updates(
            changed,
            lambda: load_payment(call),
            payment,
            last_event_id(call.request),
            deadline=time.monotonic() + STREAM_MAX_S,
            final=_settled,
        )
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            async for update in updates:
                if update is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                data = msgspec.json.encode(await shown(call, update)).decode()
                await response.write(f"id: {update.version}\nevent: payment\ndata: {data}\n\n".encode())
        except ConnectionResetError:  # the client went away: nothing to answer
            return response
    await response.write_eof()
    return response


ROUTES = [
    Route(
        "GET",
        "/v1/payments/{payment_id}/events",
        events,
        PAYERS,
        "Server-sent events of the payment's status (each data is the payment)",
        response_media="text/event-stream",
    ),
]
