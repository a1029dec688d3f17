"""One log line per request (logger ``citysettle.access``, message ``request``):
``request_id``, ``method``, ``route`` (the route's template, e.g. ``/v1/payments/{payment_id}``:
never the raw path or its query string, which may carry ids and tokens), ``status``,
``latency_ms`` and ``client_id`` (the signed-in client; null when unsigned or refused).

The request id is the caller's ``X-Request-Id`` when it is a plausible id (1-128 letters,
digits and ``._:-``), else a new one; either way it is sent back in the answer's
``X-Request-Id`` and stamped on every line logged while the request is served (`ops.logs`).
aiohttp's own access log is off (`ops.serving`): its request line includes the query.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.http.routing import CALLER
from ops.logs import REQUEST_ID

REQUEST_ID_HEADER = "X-Request-Id"
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REQUEST_ID_KEY = web.RequestKey("request_id", str)

log = logging.getLogger("citysettle.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_template(request: web.Request) -> str:
    """The route's pattern, not the raw path: ids in paths must not explode label sets or
    reach logs."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def request_id_of(header: str | None) -> str:
    return header if header is not None and _PLAUSIBLE_ID.fullmatch(header) else uuid.uuid4().hex


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID_KEY] = request_id
    token = REQUEST_ID.set(request_id)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        caller = request.get(CALLER)
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": route_template(request),
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "client_id": caller.client_id if caller is not None else None,
            },
        )
        REQUEST_ID.reset(token)


async def send_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, streamed ones and errors too, names its id."""
    request_id = request.get(REQUEST_ID_KEY)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
