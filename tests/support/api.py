"""Signed API calls for tests: clients registered straight in the store, requests
signed with the same library the service verifies with."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.http.signing import RequestSigner
from adapters.secrets import SecretSealer
from domain.model.clients import KeyAlgorithm, Role
from domain.ports import EventStore
from domain.services.clients import register_client
from domain.services.unit_of_work import execute
from ops.app import create_app
from ops.config import Config
from ops.keys import STORE

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def ed25519_material() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private, base64.b64encode(raw).decode()


async def new_client(
    store: EventStore,
    role: Role,
    *,
    scope: tuple[str, ...] = (),
    algorithm: KeyAlgorithm = KeyAlgorithm.ED25519,
    sealer: SecretSealer | None = None,
) -> RequestSigner:
    """Register a client in the store; return a signer for its first key."""
    client_id = f"cl_{secrets.token_hex(6)}"
    key: Ed25519PrivateKey | bytes
    if algorithm is KeyAlgorithm.ED25519:
        key, material = ed25519_material()
    else:
        key = secrets.token_bytes(32)
        material = (sealer or SecretSealer(None)).seal(key)
    use_case = register_client(
        client_id=client_id,
        name=f"{role.value} for tests",
        role=role,
        scope=scope,
        algorithm=algorithm,
        material=material,
        at=datetime.now(UTC),
    )
    result = (await execute(store, use_case)).result
    return RequestSigner(result["key_id"], key, algorithm)


@dataclass
class Api:
    """A test client of the composed app that signs what it sends."""

    http: TestClient[Any, Any]

    @property
    def store(self) -> Any:
        app = self.http.app
        assert app is not None
        return app[STORE]

    async def client(self, role: Role, **options: Any) -> RequestSigner:
        return await new_client(self.store, role, **options)

    async def call(
        self,
        signer: RequestSigner | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = "auto",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        created: datetime | None = None,
    ) -> ClientResponse:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        sent = dict(headers or {})
        if data:
            sent.setdefault("Content-Type", "application/json")
        if idempotency_key == "auto" and method in ("POST", "PUT"):
            sent["Idempotency-Key"] = str(uuid.uuid4())
        elif idempotency_key is not None and idempotency_key != "auto":
            sent["Idempotency-Key"] = idempotency_key
        url = str(self.http.make_url(path))
        if signer is not None:
            sent = signer.sign(method, url, data, sent, created=created)
        return await self.http.request(method, path, data=data or None, headers=sent)


async def start_api(aiohttp_client: ClientFactory, store_url: str, **config: Any) -> Api:
    config.setdefault("client_cache_ttl_s", 0.0)
    return Api(await aiohttp_client(create_app(Config(store_url=store_url, **config))))
