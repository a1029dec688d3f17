"""The composed app over real HTTP, on each store backend."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.eventstore.checkpoints import KeyRing, write_new_key
from domain.model.wallets import InsufficientFunds
from ops.app import create_app
from ops.config import Config
from ops.keys import STORE
from tests.support.aggregates import Wallet

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, store_url: str) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(Config(store_url=store_url)))


async def test_healthz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_reports_the_store_head(client: TestClient[Any, Any]) -> None:
    app = client.app
    assert app is not None
    await app[STORE].append(Wallet("r").collect_events())
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["store"]["head_position"] == 1


async def test_unknown_route_is_problem_json(client: TestClient[Any, Any]) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["status"] == 404
    assert body["instance"] == "/v1/nothing-here"


async def test_metrics_count_requests_and_group_commits(client: TestClient[Any, Any]) -> None:
    app = client.app
    assert app is not None
    await app[STORE].append(Wallet("m").collect_events())
    await client.get("/healthz")
    text = await (await client.get("/metrics")).text()
    assert 'citysettle_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert "citysettle_eventstore_events_total 1.0" in text
    assert "citysettle_eventstore_head_position 1.0" in text


async def test_readyz_is_503_problem_when_the_store_is_gone(client: TestClient[Any, Any]) -> None:
    app = client.app
    assert app is not None
    await app[STORE].close()
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["title"] == "Not ready"
    assert "Traceback" not in await response.text()


async def test_service_signs_checkpoints_as_the_log_grows(
    aiohttp_client: ClientFactory, store_url: str, tmp_path: Path
) -> None:
    write_new_key(tmp_path / "k.pem", tmp_path / "ring.json")
    config = Config(store_url=store_url, checkpoint_key_file=tmp_path / "k.pem", checkpoint_interval_s=0.02)
    client = await aiohttp_client(create_app(config))
    app = client.app
    assert app is not None
    await app[STORE].append(Wallet("cp").collect_events())
    for _ in range(250):
        checkpoints = await app[STORE].checkpoints()
        if checkpoints:
            break
        await asyncio.sleep(0.02)
    assert [c.position for c in checkpoints] == [1]
    assert KeyRing.from_json_file(tmp_path / "ring.json").problem_with(checkpoints[0]) is None


async def test_domain_errors_become_typed_problems(aiohttp_client: ClientFactory, store_url: str) -> None:
    app = create_app(Config(store_url=store_url))

    async def refuse(request: web.Request) -> web.Response:
        raise InsufficientFunds("rider-1", 25_000, 10_000, "ticket:1")

    app.router.add_post("/test/refuse", refuse)
    client = await aiohttp_client(app)
    response = await client.post("/test/refuse")
    body = await response.json()
    assert response.status == InsufficientFunds.status
    assert body["type"].endswith(f"/problems/{InsufficientFunds.code}")
    assert "25000 VND needed" in body["detail"]


async def test_method_not_allowed_keeps_its_allow_header(client: TestClient[Any, Any]) -> None:
    response = await client.request("TRACE", "/v1/payees/p1")
    assert response.status == 405
    assert response.content_type == "application/problem+json"
    assert "PUT" in response.headers["Allow"]
