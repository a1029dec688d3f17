"""Writes over real HTTP, on each store: Idempotency-Key, strict bodies, limits, payees."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.model.clients import Role
from domain.model.payees import Payee, payee_stream_id
from tests.support.api import Api, ClientFactory, start_api

ACCOUNT = {"bank_bin": "970436", "account_no": "0011004455667", "account_name": "SO TU PHAP HA NOI"}
PAYEE: dict[str, Any] = {"name": "So Tu phap Ha Noi", "kind": "agency", "collection_account": ACCOUNT}


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def test_put_payee_creates_then_updates_then_changes_nothing(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    first = await api.call(admin, "PUT", "/v1/payees/stp-hn", PAYEE)
    assert first.status == 201
    assert await first.json() == {**PAYEE, "payee_id": "stp-hn", "payout_account": None}
    changed = await api.call(admin, "PUT", "/v1/payees/stp-hn", {**PAYEE, "payout_account": ACCOUNT})
    assert changed.status == 200
    assert (await changed.json())["payout_account"] == ACCOUNT
    head = await api.store.head()
    same = await api.call(admin, "PUT", "/v1/payees/stp-hn", {**PAYEE, "payout_account": ACCOUNT})
    assert same.status == 200
    assert (await api.store.head()).position == head.position, "an unchanged payee records no event"
    events = await api.store.load(payee_stream_id("stp-hn"))
    assert [type(e) for e in events] == [Payee.Registered, Payee.Changed]


async def test_a_payee_cannot_change_kind(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    await api.call(admin, "PUT", "/v1/payees/stp-hn", PAYEE)
    response = await api.call(admin, "PUT", "/v1/payees/stp-hn", {**PAYEE, "kind": "budget"})
    assert response.status == 409
    assert (await response.json())["type"].endswith("/problems/invalid-transition")


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 256])
async def test_a_write_without_idempotency_key_is_400(api: Api, key: str | None) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, idempotency_key=key)
    assert response.status == 400
    assert (await response.json())["type"].endswith("/problems/idempotency-key-required")
    assert await api.store.load(payee_stream_id("p1")) == []


async def test_a_retry_replays_the_stored_answer_and_moves_nothing(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    first = await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, idempotency_key="put-p1")
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    head = await api.store.head()
    retry = await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, idempotency_key="put-p1")
    assert retry.status == 201, "the original status, not the 200 a fresh PUT would give"
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await retry.json() == await first.json()
    assert (await api.store.head()).position == head.position


async def test_the_same_key_with_another_body_is_422(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    await api.call(admin, "PUT", "/v1/payees/p1", PAYEE, idempotency_key="k")
    other = await api.call(admin, "PUT", "/v1/payees/p1", {**PAYEE, "name": "Other"}, idempotency_key="k")
    assert other.status == 422
    assert "Idempotency-Key" in (await other.json())["title"]


async def test_idempotency_keys_are_scoped_per_client(api: Api) -> None:
    one, two = await api.client(Role.ADMIN), await api.client(Role.ADMIN)
    assert (await api.call(one, "PUT", "/v1/payees/p1", PAYEE, idempotency_key="k")).status == 201
    response = await api.call(two, "PUT", "/v1/payees/p2", PAYEE, idempotency_key="k")
    assert response.status == 201
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PAYEE, "colour": "red"}, "$"),
        ({**PAYEE, "kind": "bank"}, "$.kind"),
        ({**PAYEE, "name": 7}, "$.name"),
        ({"kind": "agency"}, "$"),
        ({**PAYEE, "collection_account": {**ACCOUNT, "bank_bin": "97043"}}, "$.collection_account.bank_bin"),
        ({**PAYEE, "collection_account": {**ACCOUNT, "extra": 1}}, "$.collection_account"),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/p1", body)
    assert response.status == 422
    problem = await response.json()
    assert problem["field"] == field, problem
    assert await api.store.load(payee_stream_id("p1")) == []


async def test_not_json_is_422(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/p1", raw=b"{not json")
    assert response.status == 422


async def test_a_body_over_the_limit_is_413(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/p1", {**PAYEE, "name": "x" * 70_000})
    assert response.status == 413
    assert response.content_type == "application/problem+json"


async def test_a_body_over_the_service_limit_is_413_before_signature_checks(
    aiohttp_client: ClientFactory, store_url: str
) -> None:
    api = await start_api(aiohttp_client, store_url, request_body_max_bytes=1_000)
    response = await api.call(None, "PUT", "/v1/payees/p1", raw=b"x" * 5_000)
    assert response.status == 413


async def test_a_body_that_is_not_json_by_its_type_is_415(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(
        admin, "PUT", "/v1/payees/p1", raw=json.dumps(PAYEE).encode(), headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415
    assert await api.store.load(payee_stream_id("p1")) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "So Tu phap\u202e ioN aH"),  # a right-to-left override
        ("name", "So Tu\u200b phap"),  # a zero-width space
        ("name", "So Tu phap\x00"),
        ("name", "So Tu\nphap"),  # one-line text
        ("name", "\ufeffSo Tu phap"),
    ],
)
async def test_control_and_invisible_characters_are_422_and_change_nothing(api: Api, field: str, value: str) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/p1", {**PAYEE, field: value})
    assert response.status == 422, await response.text()
    body = await response.json()
    assert "control or invisible character" in body["detail"]
    assert field in body["detail"]
    assert list(await api.store.load(payee_stream_id("p1"))) == [], "a refused request records nothing"


async def test_vietnamese_text_is_not_invisible(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    response = await api.call(admin, "PUT", "/v1/payees/p1", {**PAYEE, "name": "Sở Tư pháp Hà Nội"})
    assert response.status == 201, await response.text()
