"""The counter display: ``GET /counter/{payment_id}?t=TOKEN`` and its live status.

The page (``counter.html``) shows the payee, the amount (``200.000 ₫``), the reference,
the payment's VietQR as inline SVG and the time left; ``counter.js`` listens to
``GET /counter/{payment_id}/events?t=TOKEN`` (server-sent events, aiohttp-sse) and
turns the screen to paid, underpaid, expired, paid late or cancelled without a reload.
Each event's ``id`` is the payment's version, so a screen that reconnects (``Last-Event-ID``)
gets only what changed since; once the screen's state is final and it has seen it, the
stream answers 204, which tells a browser to stop reconnecting.

The token is the only credential (`adapters.http.display_links`): it is checked before
the store is read; an invalid one is a 404 page and an expired one a 403 page, neither
saying anything about the payment."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from adapters.http.context import API, ApiServices
from adapters.http.display_links import LinkCheck
from adapters.http.payment_events import RETRY_MS, last_event_id, payment_updates
from adapters.http.payment_views import qr_payload
from adapters.http.payments import payment_uuid
from adapters.web.counter_state import FINAL, counter_state, counter_view
from adapters.web.language import LANGUAGES, page_language, words
from adapters.web.setup import render_page
from domain.model.errors import NotFound
from domain.model.ledger import AccountKind
from domain.model.payments import Payment
from domain.services.payees import find_payee
from domain.services.payments import payment_view
from domain.services.unit_of_work import UnitOfWork
from qr.render import render_inline_svg

PAGE = "/counter/{payment_id}"
EVENTS = "/counter/{payment_id}/events"
STREAM_MAX_S = 300.0  # then the screen reconnects with its last id (proxies, token expiry)
PING_S = 15.0


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def add_counter_routes(app: web.Application) -> None:
    app.router.add_get(PAGE, page, name="counter")
    app.router.add_get(EVENTS, events, name="counter-events")


async def _payment(request: web.Request, services: ApiServices) -> tuple[Payment, int]:
    """The payment the link names, and the Unix second its link stops working."""
    raw_id = request.match_info["payment_id"]
    token = request.query.get("t", "")
    check = services.display_links.check(raw_id, token, services.clock())
    if check is LinkCheck.INVALID:
        raise _Refused(404, "invalid")
    if check is LinkCheck.EXPIRED:
        raise _Refused(403, "expired")
    try:
        payment = await UnitOfWork(services.store).get(Payment, payment_uuid(raw_id))
    except NotFound:
        raise _Refused(404, "invalid") from None
    return payment, int(token.partition(".")[0])


async def payee_name(services: ApiServices, payment: Payment) -> str | None:
    """The registered name of the payee whose payable the payment credits, if it has one."""
    kind, _, rest = payment.payee_account.partition(":")
    payee_id = rest.rpartition(":")[2]
    if kind != AccountKind.PAYABLE.value or not payee_id:
        return None
    payee = await find_payee(UnitOfWork(services.store), payee_id)
    return payee.name if payee else None


def _refusal(request: web.Request, refused: _Refused) -> web.Response:
    return render_page(request, "counter_refused.html", {"reason": refused.reason}, status=refused.status)


async def page(request: web.Request) -> web.Response:
    services = request.app[API]
    try:
        payment, _until = await _payment(request, services)
    except _Refused as refused:
        return _refusal(request, refused)
    now = services.clock()
    view = counter_view(payment, now)
    lang = page_language(request)
    other = next(language for language in LANGUAGES if language != lang)  # the status's second line
    states = {language: words(language)["counter"]["states"] for language in LANGUAGES}
    events_url = request.app.router["counter-events"].url_for(payment_id=str(payment.id))
    payload = qr_payload(payment_view(payment))
    # the QR's title is what a screen reader says of it: what scanning it pays
    qr_title = words(lang)["counter"]["qr_title"].format(amount=view["amount"])
    context: dict[str, Any] = {
        "payment": payment,
        "view": view,
        "payee": await payee_name(services, payment),
        "qr_svg": render_inline_svg(payload, qr_title),
        "seconds_left": max(0, int((payment.expires_at - now).total_seconds())),
        "other_lang": other,
        "states_other": states[other],
        "script_data": {
            "events": f"{events_url}?t={request.query['t']}",
            "view": view,
            "server_now": now.isoformat(),
            "states": states,
            "lang": lang,
            "other": other,
        },
    }
    return render_page(request, "counter.html", context)


async def events(request: web.Request) -> web.StreamResponse:
    services = request.app[API]
    try:
        payment, until = await _payment(request, services)
    except _Refused as refused:
        return web.Response(status=refused.status, text=f"display link {refused.reason}\n")
    sent = last_event_id(request)

    def final(p: Payment) -> bool:
        return counter_state(p, services.clock()) in FINAL

    if final(payment) and payment.version <= sent:
        return web.Response(status=204)  # the screen has seen the end: it stops reconnecting
    async with services.changes.watching(payment.id) as changed:
        payment = await UnitOfWork(services.store).get(Payment, payment.id)  # after registering: nothing missed
        deadline = time.monotonic() + min(STREAM_MAX_S, until - services.clock().timestamp())
        updates = payment_updates(
            changed,
            lambda: UnitOfWork(services.store).get(Payment, payment.id),
            payment,
            sent,
            deadline=deadline,
            final=final,
        )
        async with sse_response(request, ping_interval=PING_S, headers={"Cache-Control": "no-store"}) as sse:
            try:
                await sse.write(f"retry: {RETRY_MS}\n\n".encode())
                async for update in updates:
                    if update is not None:  # aiohttp-sse pings a quiet stream itself
                        data = json.dumps(counter_view(update, services.clock()), ensure_ascii=False)
                        await sse.send(data, id=str(update.version), event="payment")
            except ConnectionResetError:  # the screen went away
                pass
        return sse
