"""While the event store cannot be reached the API says so: 503 with Retry-After (never a
500, never an answer later than the request timeout), and it serves again by itself once
the store is back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg

from adapters.http.routing import Call, Reply, Route, bind, roles
from domain.model.clients import Role
from ops.app import create_app
from ops.config import Config
from tests.conftest import PG_ADMIN_URL, _with_database
from tests.support.api import Api, ClientFactory

PAYEE = {"name": "So Tu phap Ha Noi", "kind": "agency"}


def assert_unavailable(status: int, headers: Any, body: dict[str, Any]) -> None:
    assert status == 503, body
    assert headers.get("Retry-After") == "1"
    assert body["type"].endswith("/problems/store-unavailable"), body
    assert "Traceback" not in str(body)


async def test_a_database_that_refuses_connections_is_503_with_retry_after_then_served_again(
    aiohttp_client: ClientFactory, own_database: str
) -> None:
    assert PG_ADMIN_URL
    config = Config(store_url=_with_database(PG_ADMIN_URL, own_database), client_cache_ttl_s=0.0)
    api = Api(await aiohttp_client(create_app(config)))
    admin = await api.client(Role.ADMIN)
    assert (await api.call(admin, "PUT", "/v1/payees/p0", PAYEE)).status == 201

    server = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await server.execute(f'ALTER DATABASE "{own_database}" WITH ALLOW_CONNECTIONS false')
        await server.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            own_database,
        )
        write = await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, idempotency_key="put-p1")
        assert_unavailable(write.status, write.headers, await write.json())
        read = await api.call(admin, "GET", "/v1/parking/lots/HK-01")
        assert_unavailable(read.status, read.headers, await read.json())
        ready = await api.http.get("/readyz")
        assert (ready.status, ready.headers.get("Retry-After")) == (503, "1")
    finally:
        await server.execute(f'ALTER DATABASE "{own_database}" WITH ALLOW_CONNECTIONS true')
        await server.close()

    assert (await api.http.get("/readyz")).status == 200
    again = await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, idempotency_key="put-p1")
    assert again.status == 201, "the refused write was not applied; its retry is"


async def test_a_request_that_outlives_the_request_timeout_is_503_with_retry_after(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    async def stuck(call: Call) -> Reply:
        await asyncio.sleep(30)  # as behind a database that stopped answering
        return Reply(200, {})

    app = create_app(Config(store_url=f"sqlite:///{tmp_path}/db", request_timeout_s=0.3))
    app.router.add_route("GET", "/stuck", bind(Route("GET", "/stuck", stuck, roles(), "stuck", signed=False)))
    client = await aiohttp_client(app)
    started = time.monotonic()
    response = await client.get("/stuck")
    assert time.monotonic() - started < 5
    assert (response.status, response.headers.get("Retry-After")) == (503, "1")
    assert (await response.json())["type"].endswith("/problems/request-timeout")
