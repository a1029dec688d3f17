"""The finance desk for tests: users registered straight in the store (a quick Argon2id
hash: the service verifies any parameters), and a browser-like client that signs in
through the real form and sends each form's CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from adapters.passwords import PasswordBook
from adapters.secrets import SecretSealer
from domain.model.clients import Role
from domain.ports import EventStore
from domain.services.unit_of_work import execute
from domain.services.users import register_user

PASSWORD = "correct horse battery staple"
QUICK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_user(store: EventStore, name: str, role: Role, password: str = PASSWORD) -> None:
    sealed = PasswordBook(SecretSealer(None), QUICK).seal(password)
    await execute(store, register_user(name=name, role=role, password=sealed, at=datetime.now(UTC)))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """One user's cookie jar on the test server (aiohttp's TestClient keeps cookies)."""

    http: TestClient[Any, Any]
    csrf: str = ""

    async def sign_in(self, name: str, password: str = PASSWORD) -> ClientResponse:
        form = await self.http.get("/finance/login")
        data = {"csrf": csrf_of(await form.text()), "name": name, "password": password, "next": "/finance"}
        response = await self.http.post("/finance/login", data=data, allow_redirects=False)
        if response.status == 303:
            page = await self.http.get("/finance")
            self.csrf = csrf_of(await page.text())
        return response

    async def post(self, path: str, data: dict[str, Any] | Any, *, csrf: str | None = None) -> ClientResponse:
        if isinstance(data, dict):
            data = {"csrf": self.csrf if csrf is None else csrf, **data}
        return await self.http.post(path, data=data, allow_redirects=False)
