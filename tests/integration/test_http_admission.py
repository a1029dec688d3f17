"""Bounded admission: a worker takes at most ``max_in_flight`` API requests at once; beyond
that it answers 503 with Retry-After at once, before reading the body or verifying the
signature, instead of queueing without bound (at twice its capacity a queue grows until
requests wait for tens of seconds). Server-sent event streams hold no place."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.http.context import API
from domain.model.clients import Role
from tests.integration.test_http_fees import INVOICE, seed
from tests.support.api import Api, ClientFactory, start_api


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url, max_in_flight=2)


async def test_a_request_beyond_the_bound_is_503_at_once_and_the_others_are_served(api: Api) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    invoices = [await (await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)).json() for _ in range(3)]
    store: Any = api.store
    release = asyncio.Event()
    append = store.append

    async def held_append(*args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await append(*args, **kwargs)

    store.append = held_append
    asked = [
        asyncio.create_task(
            api.call(terminal, "POST", "/v1/payments", {"purpose": "fee_invoice", "purpose_id": i["invoice_no"]})
        )
        for i in invoices[:2]
    ]
    for _ in range(200):  # both are in the use case, waiting for their append
        await asyncio.sleep(0.01)
        if api.http.app is not None and api.http.app[API].admission.in_flight == 2:
            break
    refused = await api.call(
        terminal, "POST", "/v1/payments", {"purpose": "fee_invoice", "purpose_id": invoices[2]["invoice_no"]}
    )
    assert refused.status == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.content_type == "application/problem+json"
    problem = await refused.json()
    assert problem["type"].endswith("/overloaded")
    assert "2 requests" in problem["detail"]

    release.set()
    answers = await asyncio.gather(*asked)
    assert [a.status for a in answers] == [201, 201]
    store.append = append
    again = await api.call(
        terminal, "POST", "/v1/payments", {"purpose": "fee_invoice", "purpose_id": invoices[2]["invoice_no"]}
    )
    assert again.status == 201, "the refused request stored nothing; sent again it is served"


async def test_the_refusal_comes_before_the_signature_is_checked(api: Api) -> None:
    assert api.http.app is not None
    admission = api.http.app[API].admission
    admission.in_flight = admission.limit  # as if two requests were being served
    try:
        unsigned = await api.call(None, "GET", "/v1/payments/00000000-0000-0000-0000-000000000000")
        assert unsigned.status == 503, "refused without spending a signature verification on it"
    finally:
        admission.in_flight = 0
    assert (await api.call(None, "GET", "/v1/payments/00000000-0000-0000-0000-000000000000")).status == 401
    assert (await api.http.get("/healthz")).status == 200


async def test_the_bound_is_in_the_openapi_document(api: Api) -> None:
    document = await (await api.http.get("/openapi.json")).json()
    assert "503" in document["paths"]["/v1/payments"]["post"]["responses"]
    # a stream takes no place of the bound, but like every call it is a 503 while the store is
    # unreachable or its first answer is not ready in time (docs/API.md), so 503 is documented there too
    assert "503" in document["paths"]["/v1/payments/{payment_id}/events"]["get"]["responses"]
