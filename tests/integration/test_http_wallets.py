"""Wallets over real HTTP, on each store: a top-up by QR through POST /v1/payments, paid
by the bank, shows in the holder's balance."""

from __future__ import annotations

from typing import Any

import pytest

from domain.model.clients import Role
from tests.integration.test_http_openapi import check_against_spec
from tests.integration.test_http_payments import CITY_ACCOUNT, pay
from tests.support.api import Api, ClientFactory, start_api


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def top_up(api: Api, holder: str, amount_vnd: int) -> dict[str, Any]:
    admin = await api.client(Role.ADMIN)
    wallets = {"name": "Vi dien tu", "kind": "transport_operator", "collection_account": CITY_ACCOUNT}
    assert (await api.call(admin, "PUT", "/v1/payees/wallets", wallets)).status in (200, 201)
    app = await api.client(Role.APP)
    body = {"purpose": "wallet_topup", "purpose_id": holder, "amount_vnd": amount_vnd}
    response = await api.call(app, "POST", "/v1/payments", body)
    assert response.status == 201, await response.text()
    payment: dict[str, Any] = await response.json()
    return payment


async def test_a_paid_top_up_is_in_the_balance(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    app = await api.client(Role.APP)
    empty = await api.call(app, "GET", "/v1/wallets/rider-1")
    assert (await empty.json())["balance_vnd"] == 0
    payment = await top_up(api, "rider-1", 50_000)
    pending = await (await api.call(app, "GET", "/v1/wallets/rider-1")).json()
    assert pending["balance_vnd"] == 0, "counted once its payment is paid"
    await pay(api, payment, bank_tx_id="FTW1")
    paid = await api.call(app, "GET", "/v1/wallets/rider-1")
    assert await paid.json() == {
        **pending,
        "balance_vnd": 50_000,
        "available_vnd": 50_000,
    }
    assert pending["account"] == "wallet:rider-1"
    await check_against_spec(spec, "GET", "/v1/wallets/{holder_id}", paid)
    other = await (await api.call(app, "GET", "/v1/wallets/rider-2")).json()
    assert other["balance_vnd"] == 0


async def test_a_holder_id_that_names_no_account_is_not_found(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    app = await api.client(Role.APP)
    response = await api.call(app, "GET", "/v1/wallets/a:b")
    assert response.status == 404
    await check_against_spec(spec, "GET", "/v1/wallets/{holder_id}", response)
