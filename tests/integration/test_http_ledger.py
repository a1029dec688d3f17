"""The ledger over real HTTP, on each store: balances and paged entries from the live projections."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.http.signing import RequestSigner
from domain.model.clients import Role
from tests.integration.test_http_fees import INVOICE, seed
from tests.integration.test_http_payments import pay
from tests.support.api import Api, ClientFactory, start_api

BANK = "bank:970436:0011004455667"
AGENCY = "payable:agency:stp-hn"


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def paid_invoices(api: Api, count: int) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    for n in range(count):
        invoice = await (await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)).json()
        await pay(api, invoice["payment"], bank_tx_id=f"FT{n}")
    head = (await api.store.head()).position
    for _ in range(500):  # the service's runners follow the log
        positions = [await api.store.tracking_position(p) for p in ("ledger_balances", "ledger_entries")]
        if min(positions) >= head:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"projections at {positions}, log at {head}")


async def test_a_day_of_fees_shows_in_the_agency_payable_and_the_bank_clearing(api: Api) -> None:
    await paid_invoices(api, 2)
    finance = await api.client(Role.FINANCE)
    agency = await (await api.call(finance, "GET", f"/v1/ledger/accounts/{AGENCY}")).json()
    assert (agency["credits_vnd"], agency["debits_vnd"], agency["balance_vnd"]) == (400_000, 0, 400_000)
    bank = await (await api.call(finance, "GET", f"/v1/ledger/accounts/{BANK}")).json()
    assert (bank["debits_vnd"], bank["balance_vnd"], bank["available_vnd"]) == (400_000, 400_000, 400_000)
    assert bank["as_of_position"] >= 1
    untouched = await (await api.call(finance, "GET", "/v1/ledger/accounts/suspense")).json()
    assert untouched["balance_vnd"] == 0


async def entries(api: Api, reader: RequestSigner, query: str) -> dict[str, Any]:
    response = await api.call(reader, "GET", f"/v1/ledger/accounts/{BANK}/entries{query}")
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_entries_are_paged_with_a_cursor(api: Api) -> None:
    await paid_invoices(api, 3)
    auditor = await api.client(Role.AUDITOR)
    first = await entries(api, auditor, "?limit=2")
    assert [e["number"] for e in first["entries"]] == [1, 2]
    assert first["next_cursor"] == "2"
    rest = await entries(api, auditor, "?limit=2&cursor=2")
    assert [(e["number"], e["side"], e["amount_vnd"]) for e in rest["entries"]] == [(3, "debit", 200_000)]
    assert rest["next_cursor"] is None
    everything = await entries(api, auditor, "")
    assert len(everything["entries"]) == 3


@pytest.mark.parametrize(("path", "status"), [
    ("/v1/ledger/accounts/nothing:here", 404),
    (f"/v1/ledger/accounts/{BANK}/entries?limit=201", 422),
    (f"/v1/ledger/accounts/{BANK}/entries?cursor=-1", 422),
    (f"/v1/ledger/accounts/{BANK}/entries?limit=x", 422),
])  # fmt: skip
async def test_bad_reads_are_refused(api: Api, path: str, status: int) -> None:
    finance = await api.client(Role.FINANCE)
    assert (await api.call(finance, "GET", path)).status == status
