"""A serving worker settles its heap once it has started: what startup made is frozen out
of the cycle collector's passes, and young objects are collected in larger steps, so that
a batch's thousands of short-lived aggregates do not make it walk the whole heap."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ops.collector import YOUNG_THRESHOLD, settle_heap_after_startup


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_a_started_app_has_frozen_its_heap_and_collects_in_larger_steps(collector_restored: None) -> None:
    made_at_startup: list[object] = []

    async def startup(_app: web.Application) -> None:
        made_at_startup.append(object())

    app = web.Application()
    app.on_startup.append(startup)
    settle_heap_after_startup(app)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] != YOUNG_THRESHOLD
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert made_at_startup  # the app's own startup ran first
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    finally:
        await client.close()
