"""The finance desk on ``citysettle serve --workers 2`` without a session key configured:
the parent gives both workers one key, so a session cookie works on either, and a sign-out
on one ends it on every one (it is recorded in the user's stream)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from adapters.web.desk_auth import SESSION_COOKIE
from domain.model.clients import Role
from ops.config import Config
from ops.stores import open_store
from tests.integration.test_serve_workers import until_ready
from tests.support.desk import PASSWORD, add_user, csrf_of
from tests.support.live import LiveApi, serving


async def _seed(url: str) -> None:
    store = await open_store(Config(store_url=url))
    try:
        await add_user(store, "lan", Role.FINANCE)
    finally:
        await store.close()


async def _desk(base: str, cookie: str, times: int) -> tuple[set[int], set[str]]:
    """GET /finance with the cookie, each time on a new connection (the kernel picks the worker)."""
    statuses, workers = set(), set()
    for _ in range(times):
        async with aiohttp.ClientSession() as fresh:
            response = await fresh.get(f"{base}/finance", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
                                       allow_redirects=False)  # fmt: skip
            statuses.add(response.status)
            workers.add(response.headers["Citysettle-Worker"])
    return statuses, workers


async def test_a_session_works_on_every_worker_until_signed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CITYSETTLE_SESSION_KEY_FILE", raising=False)
    url = f"sqlite:///{tmp_path}/events.db"
    await _seed(url)
    with serving(url, 2, tmp_path / "serve.log") as (_, base):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as probe:
            await until_ready(LiveApi(probe, base), 60)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            form = await session.get(f"{base}/finance/login")
            data = {"csrf": csrf_of(await form.text()), "name": "lan", "password": PASSWORD, "next": "/finance"}
            signed = await session.post(f"{base}/finance/login", data=data, allow_redirects=False)
            assert signed.status == 303
            cookie = signed.cookies[SESSION_COOKIE].value
            statuses, workers = await _desk(base, cookie, 30)
            assert statuses == {200}
            assert workers == {"1", "2"}, "both workers took the same cookie"
            page = await session.get(f"{base}/finance")
            out = await session.post(f"{base}/finance/logout", data={"csrf": csrf_of(await page.text())},
                                     allow_redirects=False)  # fmt: skip
            assert out.status == 303
            statuses, workers = await _desk(base, cookie, 30)
            assert statuses == {303}, "signed out on one worker, dead on both"
            assert workers == {"1", "2"}
