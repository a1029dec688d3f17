"""Meters and gates over real HTTP, on both stores: registration, batches, scope, limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.clients import Role
from tests.integration.test_http_openapi import check_against_spec
from tests.support.api import Api, ClientFactory, start_api
from tests.support.parking import HOUR, LOT, MIN, OPERATOR_CASH, T0, open_lot, posted

GATE = {"kind": "gate", "lot_code": LOT, "zone": "A"}
EVENTS = "/v1/meters/gate-north/events"


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    api = await start_api(aiohttp_client, store_url)
    await open_lot(api.store, wallet_vnd=0)
    admin = await api.client(Role.ADMIN)
    assert (await api.call(admin, "PUT", "/v1/meters/gate-north", GATE)).status == 201
    return api


def reading(sequence: int, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"ev-{sequence}", "sequence": sequence, "kind": kind, "device_time": at.isoformat()} | fields


async def test_a_gate_reports_a_stay_and_a_redelivery_changes_nothing(api: Api) -> None:
    gate = await api.client(Role.DEVICE, scope=("gate-north",))
    # Buffered while the gate was offline (in 2025, when the tariff was in force).
    batch = [
        reading(1, "entry", T0, plate="29a12345", offline=True),
        reading(2, "heartbeat", T0 + MIN, offline=True),
        reading(3, "exit", T0 + 2 * HOUR + 30 * MIN, plate="29A-123.45", payment_method="cash", offline=True),
    ]
    sent = await api.call(gate, "POST", EVENTS, {"events": batch}, idempotency_key=None)
    assert sent.status == 200, await sent.text()
    answer = await sent.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (3, 0, 0)
    entry, _, exit_ = answer["events"]
    assert exit_["session_id"] == entry["session_id"]
    assert (exit_["fee_vnd"], exit_["amount_due_vnd"]) == (85_000, 0)
    assert await posted(api.store, OPERATOR_CASH) == {OPERATOR_CASH: 85_000}
    head = await api.store.head()
    again = await (await api.call(gate, "POST", EVENTS, {"events": batch[::-1]}, idempotency_key=None)).json()
    assert [e["status"] for e in again["events"]] == ["duplicate"] * 3
    assert await api.store.head() == head
    assert await posted(api.store, OPERATOR_CASH) == {OPERATOR_CASH: 85_000}


async def test_gaps_and_bad_events_are_answered_per_event(api: Api) -> None:
    gate = await api.client(Role.DEVICE, scope=("gate-north",))
    now = datetime.now(UTC)
    batch = [
        reading(1, "heartbeat", now - MIN),
        reading(4, "entry", now - MIN),  # no plate
        reading(7, "payment", now, amount_vnd=25_000, payment_method="qr", reference="R-7"),
    ]
    answer = await (await api.call(gate, "POST", EVENTS, {"events": batch}, idempotency_key=None)).json()
    assert [e["status"] for e in answer["events"]] == ["accepted", "rejected", "accepted"]
    assert "names the plate" in answer["events"][1]["reason"]
    assert answer["sequence_gaps"] == [{"first": 2, "last": 3}, {"first": 5, "last": 6}]
    assert abs(answer["clock_offset_ms"]) < 60_000
    admin = await api.client(Role.ADMIN)
    view = await (await api.call(admin, "GET", "/v1/meters/gate-north")).json()
    assert (view["last_sequence"], view["events_taken"]) == (7, 2)
    assert view["open_gaps"] == [{"first": 2, "last": 3}, {"first": 5, "last": 6}]
    metrics = await (await api.http.get("/metrics")).text()
    assert 'citysettle_device_sequence_gaps_total{device="gate-north"} 4.0' in metrics
    assert 'citysettle_device_events_total{status="rejected"} 1.0' in metrics


async def test_a_device_posts_only_for_its_own_id(api: Api) -> None:
    other = await api.client(Role.DEVICE, scope=("gate-south",))
    body = {"events": [reading(1, "heartbeat", datetime.now(UTC))]}
    refused = await api.call(other, "POST", EVENTS, body, idempotency_key=None)
    assert refused.status == 403
    assert (await refused.json())["type"].endswith("/problems/forbidden")
    unregistered = await api.call(other, "POST", "/v1/meters/gate-south/events", body, idempotency_key=None)
    assert unregistered.status == 404
    assert (await api.call(None, "POST", EVENTS, body, idempotency_key=None)).status == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"events": []}, 422, "$.events"),
        (
            {
                "events": [
                    {"event_id": "e", "sequence": "1", "kind": "heartbeat", "device_time": "2026-01-01T00:00:00Z"}
                ]
            },
            422,
            "$.events[0].sequence",
        ),
        (
            {"events": [{"event_id": "e", "sequence": 1, "kind": "heartbeat", "device_time": "2026-01-01T00:00:00"}]},
            422,
            "$.events[0].device_time",
        ),
        (
            {
                "events": [
                    {"event_id": "e", "sequence": 1, "kind": "heartbeat", "device_time": "2026-01-01T00:00:00Z"}
                ],
                "extra": 1,
            },
            422,
            "$",
        ),
    ],
)
async def test_malformed_batches_are_refused_whole(api: Api, body: dict[str, Any], status: int, field: str) -> None:
    gate = await api.client(Role.DEVICE, scope=("gate-north",))
    response = await api.call(gate, "POST", EVENTS, body, idempotency_key=None)
    assert response.status == status
    assert (await response.json())["field"] == field


async def test_a_batch_of_more_than_a_thousand_events_is_413(api: Api) -> None:
    gate = await api.client(Role.DEVICE, scope=("gate-north",))
    now = datetime.now(UTC)
    body = {"events": [reading(i, "heartbeat", now) for i in range(1, 1002)]}
    response = await api.call(gate, "POST", EVENTS, body, idempotency_key=None)
    assert response.status == 413
    assert (await response.json())["type"].endswith("/problems/batch-too-large")
    full = await api.call(gate, "POST", EVENTS, {"events": body["events"][:1000]}, idempotency_key=None)
    assert (await full.json())["accepted"] == 1000


async def test_devices_are_registered_by_admins(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    moved = await api.call(admin, "PUT", "/v1/meters/gate-north", {**GATE, "zone": "A", "debounce_s": 5})
    assert moved.status == 200
    assert (await moved.json())["debounce_s"] == 5
    unknown_zone = await api.call(admin, "PUT", "/v1/meters/m-1", {**GATE, "zone": "Z"})
    assert unknown_zone.status == 404
    assert (await api.call(admin, "GET", "/v1/meters/nobody")).status == 404
    bad = await api.call(admin, "PUT", "/v1/meters/m-1", {**GATE, "debounce_s": 4000})
    assert bad.status == 422


async def test_meter_answers_match_the_spec(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    gate = await api.client(Role.DEVICE, scope=("gate-north",))
    admin = await api.client(Role.ADMIN)
    now = datetime.now(UTC)
    body = {"events": [reading(1, "heartbeat", now), reading(3, "exit", now, plate="51F-999.99")]}
    path = "/v1/meters/{device_id}/events"
    await check_against_spec(spec, "POST", path, await api.call(gate, "POST", EVENTS, body, idempotency_key=None))
    await check_against_spec(spec, "POST", path, await api.call(gate, "POST", EVENTS, {}, idempotency_key=None))
    device = "/v1/meters/{device_id}"
    await check_against_spec(spec, "GET", device, await api.call(admin, "GET", "/v1/meters/gate-north"))
    await check_against_spec(spec, "PUT", device, await api.call(admin, "PUT", "/v1/meters/gate-north", GATE))
    await check_against_spec(spec, "PUT", device, await api.call(admin, "PUT", "/v1/meters/m-2", GATE))
