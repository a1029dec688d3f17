"""Signed requests over real HTTP, on each store: every refusal names its check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse

from adapters.http.signing import RequestSigner
from adapters.secrets import SecretSealer
from domain.model.clients import KeyAlgorithm, Role
from domain.services.clients import revoke_client, rotate_client_key
from domain.services.unit_of_work import execute
from tests.support.api import Api, ClientFactory, ed25519_material, start_api

PAYEE = {"name": "So Tu phap Ha Noi", "kind": "agency"}
CIPHER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # 32 bytes, tests only


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def problem(response: ClientResponse, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json()
    return body


async def test_a_signed_admin_registers_a_payee(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/stp-hn", PAYEE)
    assert response.status == 201, await response.text()
    assert (await response.json())["payee_id"] == "stp-hn"


async def test_unsigned_request_is_refused(api: Api) -> None:
    body = await problem(await api.call(None, "PUT", "/v1/payees/p1", PAYEE), 401)
    assert body["check"] == "signature-missing"
    assert body["type"].endswith("/problems/signature-rejected")


@pytest.mark.parametrize(("age_s", "accepted"), [(290, True), (310, False), (-290, True), (-310, False)])
async def test_created_must_be_within_300_s(api: Api, age_s: int, accepted: bool) -> None:
    admin = await api.client(Role.ADMIN)
    created = datetime.now(UTC) - timedelta(seconds=age_s)
    response = await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, created=created)
    if accepted:
        assert response.status == 201, await response.text()
    else:
        assert (await problem(response, 401))["check"] == "created"


async def test_a_signature_by_another_key_is_refused(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    forger = RequestSigner(admin.key_id, ed25519_material()[0])
    body = await problem(await api.call(forger, "PUT", "/v1/payees/p1", PAYEE), 401)
    assert body["check"] == "signature"


async def test_a_body_changed_after_signing_fails_the_digest(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    url = str(api.http.make_url("/v1/payees/p1"))
    signed = admin.sign(
        "PUT", url, json.dumps(PAYEE).encode(), {"Content-Type": "application/json", "Idempotency-Key": "k1"}
    )
    tampered = json.dumps({**PAYEE, "name": "Someone else"}).encode()
    response = await api.http.put("/v1/payees/p1", data=tampered, headers=signed)
    assert (await problem(response, 401))["check"] == "content-digest"


async def test_a_body_must_be_covered_by_the_digest(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    url = str(api.http.make_url("/v1/payees/p1"))
    data = json.dumps(PAYEE).encode()
    signed = admin.sign(
        "PUT", url, b"", {"Content-Type": "application/json", "Idempotency-Key": "k1"}, components=("@method", "@path")
    )
    response = await api.http.put("/v1/payees/p1", data=data, headers=signed)
    body = await problem(response, 401)
    assert body["check"] == "covered-components"
    assert "content-digest" in body["detail"]


async def test_a_query_must_be_covered(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    url = str(api.http.make_url("/v1/payees/p1?x=1"))
    data = json.dumps(PAYEE).encode()
    signed = admin.sign(
        "PUT", url, data, {"Content-Type": "application/json", "Idempotency-Key": "k1"}, components=("@method", "@path")
    )
    response = await api.http.put("/v1/payees/p1?x=1", data=data, headers=signed)
    assert "@query" in (await problem(response, 401))["detail"]


async def test_whatever_else_is_covered_is_verified_too(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    url = str(api.http.make_url("/v1/payees/p1"))
    data = json.dumps(PAYEE).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k1", "X-Terminal": "counter-7"}
    components = ("@method", "@path", "@authority", "x-terminal", "idempotency-key", "content-digest")
    signed = admin.sign("PUT", url, data, headers, components=components)
    response = await api.http.put("/v1/payees/p1", data=data, headers={**signed, "X-Terminal": "counter-8"})
    assert (await problem(response, 401))["check"] == "signature"
    response = await api.http.put("/v1/payees/p1", data=data, headers=signed)
    assert response.status == 201, await response.text()


async def test_unknown_key_is_refused(api: Api) -> None:
    stranger = RequestSigner("cl_nobody.k1", ed25519_material()[0])
    assert (await problem(await api.call(stranger, "PUT", "/v1/payees/p1", PAYEE), 401))["check"] == "keyid"
    malformed = RequestSigner("not-a-key-id", ed25519_material()[0])
    assert (await problem(await api.call(malformed, "PUT", "/v1/payees/p1", PAYEE), 401))["check"] == "keyid"


async def test_a_client_added_while_serving_is_known_at_once(api: Api) -> None:
    await api.call(None, "GET", "/healthz")
    admin = await api.client(Role.ADMIN)  # written to the store after the app started
    assert (await api.call(admin, "PUT", "/v1/payees/p1", PAYEE)).status == 201


async def test_a_revoked_client_is_refused(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    assert (await api.call(admin, "PUT", "/v1/payees/p1", PAYEE)).status == 201
    client_id = admin.key_id.rpartition(".")[0]
    await execute(api.store, revoke_client(client_id, "handheld lost", datetime.now(UTC)))
    body = await problem(await api.call(admin, "PUT", "/v1/payees/p1", PAYEE), 401)
    assert body["check"] == "key-revoked"


async def test_a_rotated_key_works_until_its_end_then_is_refused(api: Api) -> None:
    old = await api.client(Role.ADMIN)
    client_id = old.key_id.rpartition(".")[0]
    private, material = ed25519_material()
    now = datetime.now(UTC)
    rotated = rotate_client_key(
        client_id, algorithm=KeyAlgorithm.ED25519, material=material, old_valid_until=now + timedelta(hours=1), at=now
    )
    new_key_id = (await execute(api.store, rotated)).result["key_id"]
    new = RequestSigner(new_key_id, private)
    assert (await api.call(old, "PUT", "/v1/payees/p1", PAYEE)).status == 201
    assert (await api.call(new, "PUT", "/v1/payees/p1", PAYEE)).status == 200
    again = rotate_client_key(client_id, algorithm=KeyAlgorithm.ED25519, material=material, old_valid_until=now, at=now)
    await execute(api.store, again)  # retires the second key at once
    assert (await problem(await api.call(new, "PUT", "/v1/payees/p1", PAYEE), 401))["check"] == "key-expired"


async def test_a_role_without_the_right_is_forbidden(api: Api) -> None:
    terminal = await api.client(Role.TERMINAL)
    body = await problem(await api.call(terminal, "PUT", "/v1/payees/p1", PAYEE), 403)
    assert body["type"].endswith("/problems/forbidden")


@pytest.mark.parametrize("cipher_key", [None, CIPHER_KEY])
async def test_hmac_clients_sign_with_their_sealed_secret(
    aiohttp_client: ClientFactory, store_url: str, cipher_key: str | None
) -> None:
    from adapters.eventstore.codec import CodecOptions

    api = await start_api(aiohttp_client, store_url, codec=CodecOptions(cipher_key=cipher_key))
    admin = await api.client(Role.ADMIN, algorithm=KeyAlgorithm.HMAC_SHA256, sealer=SecretSealer(cipher_key))
    assert (await api.call(admin, "PUT", "/v1/payees/p1", PAYEE)).status == 201
    wrong = RequestSigner(admin.key_id, b"x" * 32, KeyAlgorithm.HMAC_SHA256)
    assert (await problem(await api.call(wrong, "PUT", "/v1/payees/p1", PAYEE), 401))["check"] == "signature"


async def test_signature_failures_are_counted_by_check(api: Api) -> None:
    await api.call(None, "PUT", "/v1/payees/p1", PAYEE)
    await api.call(RequestSigner("cl_nobody.k1", ed25519_material()[0]), "PUT", "/v1/payees/p1", PAYEE)
    text = await (await api.call(None, "GET", "/metrics")).text()
    assert 'citysettle_http_signature_failures_total{check="signature-missing"} 1.0' in text
    assert 'citysettle_http_signature_failures_total{check="keyid"} 1.0' in text
