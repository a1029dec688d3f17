"""The bare aiohttp server of ``bench/http.py``: one handler that appends one event (a new
aggregate's) to our PostgresEventStore and answers 201, no signature, no use case."""

from __future__ import annotations

from collections.abc import AsyncIterator

import uvloop
from aiohttp import web

from adapters.eventstore.postgres import PostgresEventStore
from tests.support.aggregates import Wallet

STORE = web.AppKey("store", PostgresEventStore)


async def append(request: web.Request) -> web.Response:
    await request.app[STORE].append(Wallet("bench").collect_events())
    return web.json_response({"ok": True}, status=201)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(store_url: str, port: int) -> None:
    async def store(app: web.Application) -> AsyncIterator[None]:
        app[STORE] = await PostgresEventStore.open(store_url)
        yield
        await app[STORE].close()

    app = web.Application()
    app.cleanup_ctx.append(store)
    app.router.add_post("/append", append)
    app.router.add_get("/healthz", healthz)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=True, print=None, access_log=None)
