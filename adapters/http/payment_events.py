"""``GET /v1/payments/{payment_id}/events``: server-sent events of a payment's changes.

Each event's ``id`` is the payment's version and its ``data`` the payment's JSON (as
``GET /v1/payments/{id}``). A client that reconnects with ``Last-Event-ID`` gets only
what changed after it. The stream ends once the payment is no longer pending, and in
any case after ``STREAM_MAX_S`` (the client reconnects with its last id); a comment
line every ``HEARTBEAT_S`` keeps proxies from closing a quiet stream. It waits on the
store's append notifications, not by polling the payment.
"""

from __future__ import annotations

import time

import msgspec
from aiohttp import web

from adapters.http.payments import PAYERS, load_payment, shown
from adapters.http.routing import Call, Route
from domain.model.payments import Payment, PaymentStatus

STREAM_MAX_S = 300.0
HEARTBEAT_S = 15.0
RETRY_MS = 3_000


def _last_event_id(call: Call) -> int:
    raw = call.request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


async def events(call: Call) -> web.StreamResponse:
    store = call.services.store
    # the head is read before the payment, so no append between the two can be missed
    head = (await store.head()).position
    payment = await load_payment(call)  # 404 before the stream starts
    sent = _last_event_id(call)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(call.request)
    try:
        await _stream(call, response, payment, head, sent)
    except ConnectionResetError:  # the client went away: nothing to answer
        return response
    await response.write_eof()
    return response


async def _stream(call: Call, response: web.StreamResponse, payment: Payment, head: int, sent: int) -> None:
    store = call.services.store
    await response.write(f"retry: {RETRY_MS}\n\n".encode())
    deadline = time.monotonic() + STREAM_MAX_S
    while True:
        if payment.version > sent:
            data = msgspec.json.encode(await shown(call, payment)).decode()
            await response.write(f"id: {payment.version}\nevent: payment\ndata: {data}\n\n".encode())
            sent = payment.version
        remaining_s = deadline - time.monotonic()
        if payment.status is not PaymentStatus.PENDING or remaining_s <= 0:
            break
        await store.wait_for_append(head, min(HEARTBEAT_S, remaining_s))
        now_head = (await store.head()).position
        if now_head == head:
            await response.write(b": keep-alive\n\n")
            continue
        head = now_head
        payment = await load_payment(call)


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
