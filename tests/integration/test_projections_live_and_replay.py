"""The service keeps its projections live; `audit replay` proves them from the log."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from domain.services.balances import LedgerBalances
from domain.services.fees import issue_fee_invoice
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import execute
from ops.app import create_app
from ops.cli.audit import EXIT_BEHIND, EXIT_TAMPERED, replay_projections
from ops.config import Config
from ops.keys import STORE
from ops.projections import projections
from ops.stores import open_store
from tests.support.catalogue import CATALOGUE, TREASURY

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def subsidised(no: str) -> Any:
    return issue_fee_invoice(
        CATALOGUE, invoice_no=no, payer_id="p", service_code="LLTP-01", channel="vneid", collection=TREASURY, at=T0
    )


async def test_the_service_keeps_balances_live(aiohttp_client: ClientFactory, store_url: str) -> None:
    client = await aiohttp_client(create_app(Config(store_url=store_url)))
    assert client.app is not None
    store = client.app[STORE]
    await execute(store, subsidised("HS-L1"))
    head = (await store.head()).position
    for _ in range(300):
        if await store.tracking_position(LedgerBalances.name) == head:
            break
        await asyncio.sleep(0.01)
    assert await store.tracking_position(LedgerBalances.name) == head
    assert await store.all_rows(LedgerBalances.name)


async def test_replay_matches_and_then_catches_an_altered_row(store_url: str) -> None:
    store = await open_store(Config(store_url=store_url))
    try:
        for n in range(3):
            await execute(store, subsidised(f"HS-R{n}"))
        for projection in projections():
            await ProjectionRunner(store, store, projection).catch_up()
        out = io.StringIO()
        assert await replay_projections(Config(store_url=store_url), out) == 0
        assert json.loads(out.getvalue())["status"] == "identical"

        key = next(iter(await store.all_rows(LedgerBalances.name)))
        position = await store.tracking_position(LedgerBalances.name)
        await store.commit_projection(LedgerBalances.name, position, position, {key: {"posted_debits_vnd": 1}})
    finally:
        await store.close()
    out = io.StringIO()
    assert await replay_projections(Config(store_url=store_url), out) == EXIT_TAMPERED
    report = json.loads(out.getvalue())
    balances = next(p for p in report["projections"] if p["name"] == LedgerBalances.name)
    assert balances["differing_keys"] == [key]


async def test_replay_says_when_the_live_projections_are_behind_the_log(store_url: str) -> None:
    store = await open_store(Config(store_url=store_url))
    try:
        await execute(store, subsidised("HS-B0"))
        await ProjectionRunner(store, store, LedgerBalances()).catch_up()
        caught_up = await store.tracking_position(LedgerBalances.name)
        await execute(store, subsidised("HS-B1"))  # the live projections never see this one
        head = (await store.head()).position
    finally:
        await store.close()
    out = io.StringIO()
    assert await replay_projections(Config(store_url=store_url), out) == EXIT_BEHIND
    report = json.loads(out.getvalue())
    assert report["status"] == "behind"
    balances = next(p for p in report["projections"] if p["name"] == LedgerBalances.name)
    assert (balances["position"], balances["behind"], balances["identical"]) == (caught_up, head - caught_up, True)
    assert balances["rebuilt_rows"] >= balances["rows"] > 0
    never_built = next(p for p in report["projections"] if p["name"] != LedgerBalances.name and p["position"] == 0)
    assert never_built["behind"] == head
    assert f"{LedgerBalances.name}: live projection is {head - caught_up} events behind" in report["message"]
    assert "rebuilt from the log:" in report["message"]
