"""Operations endpoints: liveness, readiness (the store reads and writes), Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from adapters.http.problems import RETRY_AFTER_S, Problem
from ops.access_log import route_template
from ops.keys import LEADERSHIP, METRICS, STORE

READINESS_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_S):
            await store.ping()  # the writer too: reads alone can answer while appends cannot
            head = await store.head()
    except Exception as exc:
        raise Problem(
            503,
            "Not ready",
            f"event store unreachable: {type(exc).__name__}",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from exc
    # every worker answers reads and writes; one of them also runs the projections
    role = "leader" if request.app[LEADERSHIP].leading else "follower"
    return web.json_response({"status": "ready", "store": {"head_position": head.position}, "projections": role})


async def metrics(request: web.Request) -> web.Response:
    m = request.app[METRICS]
    m.log_head.set((await request.app[STORE].head()).position)
    return web.Response(body=m.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    route = route_template(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        m = request.app[METRICS]
        m.http_requests.labels(request.method, route, str(status)).inc()
        m.http_latency.labels(request.method, route).observe(time.perf_counter() - started)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
