"""The counter display over real HTTP, on each store: the capability link from
POST /v1/payments opens the page (payee, amount, reference, QR, time left), its event
stream follows the payment (with Last-Event-ID), and a wrong or expired link shows a
refusal page that says nothing of any payment."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.http.context import API
from adapters.web.setup import PAGE_HEADERS
from domain.model.clients import Role
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import execute
from ops.app import create_app
from ops.config import Config, ConfigError
from ops.keys import DISPLAY_LINKS
from tests.integration.test_http_fees import INVOICE
from tests.integration.test_http_payments import invoice_payment
from tests.support.api import Api, ClientFactory, start_api

NBSP = "\u00a0"
PAYMENT_ID = "d4fdf159-55db-5784-a4b3-f5479e9cc337"


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def pay(api: Api, payment: dict[str, Any], amount_vnd: int, tx: str) -> None:
    note = f"MBVCB.1.{payment['reference']}.le phi"
    notice = BankNotice(payment["bank_bin"], payment["account_no"], tx, amount_vnd, note, datetime.now(UTC))
    await execute(api.store, credit_bank_transfer(notice, datetime.now(UTC), ON_PAID))


def _events_path(html: str) -> str:
    found = re.search(r'<script type="application/json" id="counter-data">(.*?)</script>', html, re.S)
    assert found, "the page hands its script the stream's URL"
    return str(json.loads(found.group(1))["events"])


async def read_counter_events(api: Api, path: str, last_id: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    headers = {"Last-Event-ID": last_id} if last_id else {}
    response = await api.http.get(path, headers=headers)
    if response.status != 200:
        return response.status, []
    assert response.content_type == "text/event-stream"
    events: list[dict[str, Any]] = []
    event: dict[str, Any] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")  # aiohttp-sse ends lines with CRLF
        if not line:
            if event.get("event") == "payment":
                events.append(event)
            event = {}
        elif line.startswith(("id: ", "data: ", "event: ")):
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value
    return 200, events


async def test_the_display_link_opens_the_counter_page(api: Api) -> None:
    _, payment = await invoice_payment(api)
    response = await api.http.get(payment["links"]["display"])
    html = await response.text()
    assert response.status == 200, html
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"
    assert '<html lang="vi">' in html
    assert "So Tu phap" in html, "the payee's registered name"
    assert f"200.000{NBSP}₫" in html
    assert payment["reference"] in html
    assert re.search(r'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \d+ \d+" class="qr">', html)
    assert f"<title>Mã VietQR để thanh toán 200.000{NBSP}₫</title>" in html
    assert "Chờ thanh toán" in html
    assert re.search(r'<time id="time-left" datetime="PT(\d+)S"', html)
    assert 'role="status" aria-live="polite"' in html
    assert re.search(r'<script src="/static/counter\.js\?v=[\w%-]+" defer>', html)


async def test_the_page_in_english_keeps_its_token(api: Api) -> None:
    _, payment = await invoice_payment(api)
    token = parse_qs(urlsplit(payment["links"]["display"]).query)["t"][0]
    response = await api.http.get(payment["links"]["display"] + "&lang=en")
    html = await response.text()
    assert '<html lang="en">' in html
    assert "Waiting for payment" in html
    assert "Chờ thanh toán" in html, "the status's second line is in Vietnamese"
    assert f"t={token}&amp;lang=vi" in html


async def test_the_stream_shows_the_payment_paid_and_resumes_after_the_last_id(api: Api) -> None:
    _, payment = await invoice_payment(api)
    path = _events_path(await (await api.http.get(payment["links"]["display"])).text())
    reading = asyncio.create_task(read_counter_events(api, path))
    await asyncio.sleep(0.3)
    await pay(api, payment, 50_000, "FT-PART")
    await asyncio.sleep(0.3)
    await pay(api, payment, 150_000, "FT-REST")
    status, events = await asyncio.wait_for(reading, 10)
    assert status == 200
    assert [e["data"]["state"] for e in events] == ["pending", "underpaid", "paid"]
    assert events[1]["data"]["due"] == f"150.000{NBSP}₫"
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
    _, resumed = await asyncio.wait_for(read_counter_events(api, path, last_id=events[1]["id"]), 10)
    assert [e["data"]["state"] for e in resumed] == ["paid"]
    seen_the_end = await asyncio.wait_for(read_counter_events(api, path, last_id=events[2]["id"]), 10)
    assert seen_the_end == (204, []), "a screen that saw the end is told to stop reconnecting"
    app = api.http.app
    assert app is not None
    assert app[API].changes.watched == 0, "no stream left waiting"


async def test_a_wrong_link_is_a_404_page_that_shows_no_payment(api: Api) -> None:
    _, payment = await invoice_payment(api)
    _, other = await invoice_payment_again(api)
    display = payment["links"]["display"]
    token = parse_qs(urlsplit(display).query)["t"][0]
    wrong = [
        display.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),
        display.split("?")[0],
        f"/counter/{other['id']}?t={token}",
        f"/counter/not-a-uuid?t={token}",
    ]
    for url in wrong:
        response = await api.http.get(url)
        html = await response.text()
        assert response.status == 404, url
        assert "Liên kết không hợp lệ" in html
        for secret in (payment["reference"], other["reference"], "200.000", "<svg"):
            assert secret not in html, (url, secret)
        events = await api.http.get(url.replace("?", "/events?") if "?" in url else url + "/events")
        assert events.status == 404


async def invoice_payment_again(api: Api) -> tuple[Any, dict[str, Any]]:
    """A second invoice of the same service (the catalogue is seeded once)."""
    terminal = await api.client(Role.TERMINAL)
    invoice = await (await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)).json()
    body = {"purpose": "fee_invoice", "purpose_id": invoice["invoice_no"]}
    return terminal, await (await api.call(terminal, "POST", "/v1/payments", body)).json()


async def test_an_expired_link_is_a_403_page(api: Api) -> None:
    _, payment = await invoice_payment(api)
    app = api.http.app
    assert app is not None
    links = app[API].display_links
    long_ago = datetime.now(UTC) - timedelta(days=1)
    stale = links.url(payment["id"], long_ago)  # well signed, but its second has passed
    response = await api.http.get(stale)
    html = await response.text()
    assert response.status == 403
    assert "Liên kết đã hết hạn" in html
    assert payment["reference"] not in html
    assert (await api.http.get(stale.replace("?", "/events?"))).status == 403


def test_a_display_key_file_keeps_links_valid_across_restarts(tmp_path: Path, store_url: str) -> None:
    key = tmp_path / "display.key"
    key.write_text("a-display-key-of-at-least-32-bytes!")
    config = Config(store_url=store_url, display_key_file=key)
    before, after = create_app(config)[DISPLAY_LINKS], create_app(config)[DISPLAY_LINKS]
    expires = datetime.now(UTC) + timedelta(minutes=15)
    assert before.url(PAYMENT_ID, expires) == after.url(PAYMENT_ID, expires)
    random_one, random_two = create_app(Config(store_url=store_url)), create_app(Config(store_url=store_url))
    assert random_one[DISPLAY_LINKS].url(PAYMENT_ID, expires) != random_two[DISPLAY_LINKS].url(PAYMENT_ID, expires)


def test_a_short_display_key_is_a_configuration_error(tmp_path: Path, store_url: str) -> None:
    key = tmp_path / "display.key"
    key.write_text("short")
    with pytest.raises(ConfigError, match=r"CITYSETTLE_DISPLAY_KEY_FILE: the display key .* has 5 bytes"):
        create_app(Config(store_url=store_url, display_key_file=key))
