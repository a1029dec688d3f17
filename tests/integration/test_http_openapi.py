"""The OpenAPI document is generated from the route table, and real answers match it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from aiohttp import ClientResponse

from adapters.http.api import all_routes
from domain.model.clients import Role
from tests.integration.test_http_fees import INVOICE, SERVICE, seed
from tests.support.api import Api, ClientFactory, start_api


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def check_against_spec(spec: dict[str, Any], method: str, path: str, response: ClientResponse) -> None:
    answers = spec["paths"][path][method.lower()]["responses"]
    assert str(response.status) in answers, f"{response.status} is not in the spec of {method} {path}"
    content = answers[str(response.status)]["content"]
    assert response.content_type in content
    schema = {**content[response.content_type]["schema"], "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(await response.json())


async def test_every_route_is_in_the_spec_with_its_roles(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    assert spec["openapi"] == "3.1.0"
    jsonschema.Draft202012Validator.check_schema(spec["components"]["schemas"]["PayeeBody"])
    for route in all_routes():
        operation = spec["paths"][route.path][route.method.lower()]
        assert operation["x-roles"] == sorted(r.value for r in route.roles)
        if route.idempotent:
            assert any(p["name"] == "Idempotency-Key" and p["required"] for p in operation["parameters"])


async def test_real_answers_match_the_spec(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    admin = await api.client(Role.ADMIN)
    account = {"bank_bin": "970436", "account_no": "0011004455667", "account_name": "SO TU PHAP"}
    body = {"name": "So Tu phap", "kind": "agency", "collection_account": account}
    path = "/v1/payees/{payee_id}"
    await check_against_spec(spec, "PUT", path, await api.call(admin, "PUT", "/v1/payees/stp", body))
    await check_against_spec(spec, "PUT", path, await api.call(admin, "PUT", "/v1/payees/stp", body))
    await check_against_spec(spec, "PUT", path, await api.call(admin, "PUT", "/v1/payees/stp", {"name": 1}))
    await check_against_spec(spec, "PUT", path, await api.call(None, "PUT", "/v1/payees/stp", body))


async def test_answers_of_every_resource_match_the_spec(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    admin = await seed(api)
    terminal, finance = await api.client(Role.TERMINAL), await api.client(Role.FINANCE)
    checks: list[tuple[str, str, ClientResponse]] = [
        ("PUT", "/v1/fees/services/{service_code}", await api.call(admin, "PUT", "/v1/fees/services/LLTP-01", SERVICE)),
        (
            "PUT",
            "/v1/fees/services/{service_code}",
            await api.call(admin, "PUT", "/v1/fees/services/X", {**SERVICE, "amount_vnd": 1.5}),
        ),
    ]
    issued = await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)
    invoice = await issued.json()
    checks.append(("POST", "/v1/fees/invoices", issued))
    checks.append(
        (
            "GET",
            "/v1/fees/invoices/{invoice_no}",
            await api.call(terminal, "GET", f"/v1/fees/invoices/{invoice['invoice_no']}"),
        )
    )
    checks.append(("GET", "/v1/fees/invoices/{invoice_no}", await api.call(terminal, "GET", "/v1/fees/invoices/none")))
    ask = {"purpose": "fee_invoice", "purpose_id": invoice["invoice_no"]}
    checks.append(("POST", "/v1/payments", await api.call(terminal, "POST", "/v1/payments", ask)))
    checks.append(("POST", "/v1/payments", await api.call(terminal, "POST", "/v1/payments", ask, idempotency_key=None)))
    payment = f"/v1/payments/{invoice['payment']['id']}"
    checks.append(("GET", "/v1/payments/{payment_id}", await api.call(terminal, "GET", payment)))
    checks.append(("GET", "/v1/payments/{payment_id}", await api.call(finance, "GET", payment)))
    checks.append(
        (
            "POST",
            "/v1/payments/{payment_id}/cancel",
            await api.call(terminal, "POST", f"{payment}/cancel", {"reason": "r"}),
        )
    )
    checks.append(
        (
            "POST",
            "/v1/fees/invoices/{invoice_no}/cancel",
            await api.call(terminal, "POST", f"/v1/fees/invoices/{invoice['invoice_no']}/cancel", {"reason": "r"}),
        )
    )
    checks.append(
        ("GET", "/v1/ledger/accounts/{account_id}", await api.call(finance, "GET", "/v1/ledger/accounts/suspense"))
    )
    checks.append(
        (
            "GET",
            "/v1/ledger/accounts/{account_id}/entries",
            await api.call(finance, "GET", "/v1/ledger/accounts/suspense/entries"),
        )
    )
    for method, path, response in checks:
        await check_against_spec(spec, method, path, response)
