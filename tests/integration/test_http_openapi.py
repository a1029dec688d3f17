"""The OpenAPI document is generated from the route table, and real answers match it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from aiohttp import ClientResponse

from adapters.http.api import all_routes
from domain.model.clients import Role
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
