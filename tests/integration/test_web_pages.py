"""The pages' foundation on the composed app: templates in the chosen language, the
switch that keeps a page's query, the headers every page carries, static assets with
cache headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.web.setup import PAGE_HEADERS, render_page
from ops.app import create_app
from ops.config import Config

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


async def _base_page(request: web.Request) -> web.Response:
    return render_page(request, "base.html", {})


@pytest.fixture
async def client(aiohttp_client: ClientFactory, store_url: str) -> TestClient[Any, Any]:
    app = create_app(Config(store_url=store_url))
    app.router.add_get("/a-page", _base_page)  # any page extends base.html
    return await aiohttp_client(app)


def _lang(html: str) -> str:
    found = re.search(r'<html lang="(\w+)">', html)
    assert found, html[:200]
    return found.group(1)


async def test_a_page_is_vietnamese_first(client: TestClient[Any, Any]) -> None:
    response = await client.get("/a-page")
    html = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert _lang(html) == "vi"
    assert "Bỏ qua, đến nội dung chính" in html
    assert 'href="/a-page?lang=en"' in html


async def test_the_switch_keeps_the_query_and_is_remembered(client: TestClient[Any, Any]) -> None:
    response = await client.get("/a-page", params={"t": "abc", "lang": "en"})
    html = await response.text()
    assert _lang(html) == "en"
    assert "Skip to the main content" in html
    assert 'href="/a-page?t=abc&amp;lang=vi"' in html, "the way back keeps the token"
    assert response.cookies["lang"].value == "en"
    again = await client.get("/a-page")  # the client's cookie jar sends lang=en
    assert _lang(await again.text()) == "en"
    assert "lang" not in again.cookies, "nothing new to remember"


async def test_an_unknown_language_falls_back_to_vietnamese(client: TestClient[Any, Any]) -> None:
    response = await client.get("/a-page", params={"lang": "xx"})
    assert _lang(await response.text()) == "vi"
    assert "lang" not in response.cookies


async def test_pages_carry_the_security_headers(client: TestClient[Any, Any]) -> None:
    response = await client.get("/a-page")
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"


async def test_static_assets_are_served_with_cache_headers(client: TestClient[Any, Any]) -> None:
    html = await (await client.get("/a-page")).text()
    found = re.search(r'href="(/static/site\.css\?v=[\w%-]+)"', html)
    assert found, "the stylesheet's URL carries its version"
    versioned = await client.get(found.group(1))
    assert versioned.status == 200
    assert versioned.content_type == "text/css"
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "font-family" in await versioned.text()
    plain = await client.get("/static/site.css")
    assert plain.headers["Cache-Control"] == "public, max-age=300"


async def test_a_missing_asset_is_404_and_not_cached(client: TestClient[Any, Any]) -> None:
    response = await client.get("/static/nothing.css")
    assert response.status == 404
    assert "Cache-Control" not in response.headers
    escape = await client.get("/static/../pyproject.toml")
    assert escape.status in (403, 404)
