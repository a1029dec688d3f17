"""The route-by-role matrix: every cell over real HTTP, and docs/API.md says the same."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from adapters.http.api import all_routes
from adapters.http.routing import Route
from domain.model.clients import Role
from tests.support.api import Api, ClientFactory, start_api

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
SIGNED = [r for r in all_routes() if r.signed]


def concrete(route: Route) -> str:
    """The path with each parameter filled in ("0" where a parameter has a pattern: a hex id)."""
    patterned = {name for name, _ in route.patterns}
    return re.sub(r"{([^}]+)}", lambda m: "0" if m.group(1) in patterned else "x", route.path)


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def test_every_role_on_every_route(api: Api) -> None:
    signers = {role: await api.client(role, scope=("dev-1",) if role is Role.DEVICE else ()) for role in Role}
    for route in SIGNED:
        for role, signer in signers.items():
            body: dict[str, Any] | None = {} if route.request is not None else None
            response = await api.call(signer, route.method, concrete(route), body)
            if role in route.roles:
                assert response.status != 403, f"{role} refused on {route.method} {route.path}"
                assert response.status < 500, await response.text()
            else:
                assert response.status == 403, f"{role} got {response.status} on {route.method} {route.path}"


def documented_matrix() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    lines = DOC.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| call |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")[1:]]
    for line in lines:
        match = re.match(r"\| `(GET|POST|PUT|DELETE) ([^`]+)` \|(.*)\|$", line)
        if match:
            cells = [c.strip() for c in match.group(3).split("|")]
            rows[f"{match.group(1)} {match.group(2)}"] = {r for r, c in zip(roles, cells, strict=True) if c == "✓"}
    return rows


def test_the_documented_matrix_is_the_route_table() -> None:
    served = {f"{r.method} {r.path}": {role.value for role in r.roles} for r in SIGNED}
    assert documented_matrix() == served
