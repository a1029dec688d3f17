"""Parking over real HTTP, on both stores: lots, tariffs, quotes, sessions, payments of
what a session owes, reservations, occupancy and cashless share; terminals' scopes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.clients import Role
from tests.integration.test_http_openapi import check_against_spec
from tests.support.api import Api, ClientFactory, start_api
from tests.support.parking import CAR_TARIFF, CITY, DRIVER, HOUR, LOT, MIN, OPERATOR, open_lot
from tests.support.wallets import top_up

OPERATOR_PAYEE = {
    "name": "Hoan Kiem parking",
    "kind": "parking_operator",
    "collection_account": {"bank_bin": CITY.bank_bin, "account_no": CITY.account_no, "account_name": CITY.name},
}


def iso(at: datetime) -> str:
    return at.isoformat()


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    """Lot HK-01 with its tariffs in force since yesterday; the operator's payee; the
    driver's wallet topped up with 500,000 VND."""
    api = await start_api(aiohttp_client, store_url)
    since = datetime.now(UTC) - timedelta(days=1)
    await open_lot(api.store, wallet_vnd=0, since=since)
    await top_up(api.store, DRIVER, 500_000, CITY, since)
    admin = await api.client(Role.ADMIN)
    assert (await api.call(admin, "PUT", f"/v1/payees/{OPERATOR}", OPERATOR_PAYEE)).status == 201
    return api


async def test_admins_register_lots_spaces_and_tariffs(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    lot = {"code": "BD-02", "operator_id": OPERATOR, "name": "Ba Dinh", "zones": {"A": {"car": {"capacity": 20}}}}
    created = await api.call(admin, "POST", "/v1/parking/lots", lot)
    assert created.status == 201
    assert (await created.json())["zones"] == {"A": {"car": {"capacity": 20, "reservable": 0}}}
    assert (await api.call(admin, "POST", "/v1/parking/lots", lot)).status == 409
    spaces = await api.call(admin, "PUT", "/v1/parking/lots/BD-02/spaces/A/car", {"capacity": 30, "reservable": 5})
    assert (await spaces.json())["zones"]["A"]["car"] == {"capacity": 30, "reservable": 5}
    assert (await api.call(admin, "PUT", "/v1/parking/lots/BD-02/spaces/A/bus", {"capacity": 1})).status == 404
    from_ = datetime.now(UTC) + HOUR
    tariff = {"zone": "A", "effective_from": iso(from_), "tariff": CAR_TARIFF}
    scheduled = await api.call(admin, "POST", "/v1/parking/lots/BD-02/tariffs", tariff)
    assert scheduled.status == 201, await scheduled.text()
    assert (await scheduled.json())["tariff"]["daily_cap_vnd"] == 300_000
    past = {**tariff, "effective_from": iso(from_ - 2 * HOUR)}
    assert (await api.call(admin, "POST", "/v1/parking/lots/BD-02/tariffs", past)).status == 422
    float_price = {**tariff, "tariff": {**CAR_TARIFF, "daily_cap_vnd": 1.5}}
    refused = await api.call(admin, "POST", "/v1/parking/lots/BD-02/tariffs", float_price)
    assert (refused.status, (await refused.json())["field"]) == (422, "$.tariff.daily_cap_vnd")
    app = await api.client(Role.APP)
    stay = {
        "lot_code": "BD-02",
        "zone": "A",
        "vehicle_class": "car",
        "start": iso(from_),
        "end": iso(from_ + 150 * MIN),
    }
    quoted = await (await api.call(app, "POST", "/v1/parking/quotes", stay)).json()
    assert quoted["total_vnd"] == sum(s["amount_vnd"] for s in quoted["segments"]) > 0
    assert (await api.call(app, "GET", "/v1/parking/lots/BD-02")).status == 200


async def test_an_attendant_session_is_started_extended_ended_and_read(api: Api) -> None:
    terminal = await api.client(Role.TERMINAL, scope=(LOT,))
    now = datetime.now(UTC)
    start = {"lot_code": LOT, "reference": "att-1", "zone": "A", "vehicle_class": "car", "plate": "30A-123.45"}
    started = await api.call(terminal, "POST", "/v1/parking/sessions", start)
    assert started.status == 201, await started.text()
    session = await started.json()
    assert (session["status"], session["held_vnd"]) == ("active", 0)
    path = f"/v1/parking/sessions/{session['session_id']}"
    extended = await api.call(terminal, "POST", f"{path}/extend", {"expected_end": iso(now + 2 * HOUR)})
    assert (await extended.json())["expected_end"] is not None
    ended = await api.call(terminal, "POST", f"{path}/end", {"payment_method": "cash", "payment_reference": "R-1"})
    assert ended.status == 200
    assert (await ended.json())["status"] == "ended"
    read = await (await api.call(terminal, "GET", path)).json()
    assert (read["payment_method"], read["payment_reference"]) == ("cash", "R-1")
    assert (await api.call(terminal, "POST", f"{path}/pay")).status == 409  # nothing due (within grace)
    assert (await api.call(terminal, "GET", "/v1/parking/sessions/not-a-uuid")).status == 404


async def test_a_terminal_works_only_at_its_lots(api: Api) -> None:
    mine = await api.client(Role.TERMINAL, scope=(LOT,))
    elsewhere = await api.client(Role.TERMINAL, scope=("BD-02",))
    start = {"lot_code": LOT, "reference": "att-2", "zone": "A", "vehicle_class": "car", "plate": "30A-123.45"}
    refused = await api.call(elsewhere, "POST", "/v1/parking/sessions", start)
    assert refused.status == 403
    assert (await refused.json())["type"].endswith("/problems/out-of-scope")
    session = await (await api.call(mine, "POST", "/v1/parking/sessions", start)).json()
    path = f"/v1/parking/sessions/{session['session_id']}"
    assert (await api.call(elsewhere, "GET", path)).status == 403
    assert (await api.call(elsewhere, "POST", f"{path}/end", {"payment_method": "cash"})).status == 403
    assert (await api.call(mine, "GET", path)).json is not None
    assert (await api.call(elsewhere, "GET", f"/v1/parking/lots/{LOT}/occupancy")).status == 403


async def test_an_app_prepays_from_the_driver_wallet(api: Api) -> None:
    app = await api.client(Role.APP)
    now = datetime.now(UTC)
    start = {
        "lot_code": LOT,
        "reference": "app-1",
        "zone": "A",
        "vehicle_class": "car",
        "plate": "30E-1234",
        "driver_id": DRIVER,
        "prepay": True,
        "expected_end": iso(now + 2 * HOUR),
    }
    session = await (await api.call(app, "POST", "/v1/parking/sessions", start)).json()
    assert session["held_vnd"] > 0
    ended = await (
        await api.call(app, "POST", f"/v1/parking/sessions/{session['session_id']}/end", {"payment_method": "wallet"})
    ).json()
    assert ended["status"] == "ended"
    poor = {**start, "reference": "app-2", "prepay": True, "driver_id": "driver-without-wallet"}
    assert (await api.call(app, "POST", "/v1/parking/sessions", poor)).status == 402  # insufficient funds


async def test_a_gate_stay_paid_by_qr_gets_its_payment(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    gate = {"kind": "gate", "lot_code": LOT, "zone": "A"}
    assert (await api.call(admin, "PUT", "/v1/meters/gate-north", gate)).status == 201
    device = await api.client(Role.DEVICE, scope=("gate-north",))
    now = datetime.now(UTC)
    events = [
        {
            "event_id": "in",
            "sequence": 1,
            "kind": "entry",
            "device_time": iso(now - 3 * HOUR),
            "plate": "29A-123.45",
            "offline": True,
        },
        {
            "event_id": "out",
            "sequence": 2,
            "kind": "exit",
            "device_time": iso(now - MIN),
            "plate": "29A-123.45",
            "offline": True,
        },
    ]
    answer = await (
        await api.call(device, "POST", "/v1/meters/gate-north/events", {"events": events}, idempotency_key=None)
    ).json()
    left = answer["events"][1]
    assert left["amount_due_vnd"] == left["fee_vnd"] > 0
    terminal = await api.client(Role.TERMINAL, scope=(LOT,))
    pay = f"/v1/parking/sessions/{left['session_id']}/pay"
    paying = await api.call(terminal, "POST", pay, idempotency_key="pay-1")
    assert paying.status == 201, await paying.text()
    payment = await paying.json()
    assert (payment["amount_vnd"], payment["purpose"], payment["status"]) == (
        left["fee_vnd"],
        "parking_session",
        "pending",
    )
    assert payment["qr_payload"].startswith("000201")
    again = await api.call(terminal, "POST", pay, idempotency_key="pay-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await (await api.call(terminal, "POST", pay)).json())["id"] == payment["id"]  # a new key, the same payment


async def test_reservations_are_made_honoured_cancelled_and_not_marked_early(api: Api) -> None:
    app = await api.client(Role.APP)
    terminal = await api.client(Role.TERMINAL, scope=(LOT,))
    now = datetime.now(UTC)

    async def book(reference: str, start: datetime) -> dict[str, Any]:
        body = {
            "lot_code": LOT,
            "reference": reference,
            "zone": "A",
            "vehicle_class": "car",
            "plate": "30E-1234",
            "driver_id": DRIVER,
            "start": iso(start),
            "end": iso(start + 2 * HOUR),
        }
        made = await api.call(app, "POST", "/v1/parking/reservations", body)
        assert made.status == 201, await made.text()
        booked: dict[str, Any] = await made.json()
        return booked

    soon = await book("r-soon", now + 10 * MIN)
    assert soon["held_vnd"] > 0
    path = f"/v1/parking/reservations/{soon['reservation_id']}"
    assert (await (await api.call(terminal, "GET", path)).json())["status"] == "booked"
    honoured = await api.call(terminal, "POST", f"{path}/honour", {"reference": "att-r1", "plate": "30E-1234"})
    assert honoured.status == 200, await honoured.text()
    body = await honoured.json()
    assert (body["status"], body["session"]["status"]) == ("honoured", "active")
    later = await book("r-later", now + 3 * HOUR)
    cancelled = await (await api.call(app, "POST", f"/v1/parking/reservations/{later['reservation_id']}/cancel")).json()
    assert (cancelled["status"], cancelled["fee_vnd"]) == ("cancelled", 0)
    third = await book("r-third", now + 20 * MIN)
    early = await api.call(terminal, "POST", f"/v1/parking/reservations/{third['reservation_id']}/no-show")
    assert early.status == 409  # its arrival window is still open


async def test_occupancy_and_cashless_share(api: Api) -> None:
    terminal = await api.client(Role.TERMINAL, scope=(LOT,))
    finance = await api.client(Role.FINANCE)
    start = {"lot_code": LOT, "reference": "occ-1", "zone": "A", "vehicle_class": "car", "plate": "30A-123.45"}
    assert (await api.call(terminal, "POST", "/v1/parking/sessions", start)).status == 201
    occupancy = await eventually(
        api, terminal, f"/v1/parking/lots/{LOT}/occupancy", lambda b: b["classes"]["car"]["occupied"] == 1
    )
    assert occupancy["zones"]["A"]["car"] == {"capacity": 50, "occupied": 1}
    share = await (await api.call(finance, "GET", f"/v1/parking/lots/{LOT}/cashless-share")).json()
    assert share["cashless_count_bps"] == 0
    day = await api.call(finance, "GET", f"/v1/parking/lots/{LOT}/cashless-share?day=2026-01-02")
    assert (await day.json())["day"] == "2026-01-02"
    assert (await api.call(finance, "GET", f"/v1/parking/lots/{LOT}/cashless-share?day=yesterday")).status == 422
    assert (await api.call(finance, "GET", "/v1/parking/lots/NO-LOT/cashless-share")).status == 404


async def eventually(api: Api, signer: Any, path: str, ready: Any) -> dict[str, Any]:
    """A projection's answer once it caught up (the service runs them in the background)."""
    for _ in range(100):
        response = await api.call(signer, "GET", path)
        if response.status == 200:
            body: dict[str, Any] = await response.json()
            if ready(body):
                return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never got ready")


async def test_parking_answers_match_the_spec(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    terminal = await api.client(Role.TERMINAL, scope=(LOT,))
    start = {"lot_code": LOT, "reference": "spec-1", "zone": "A", "vehicle_class": "car", "plate": "30A-123.45"}
    started = await api.call(terminal, "POST", "/v1/parking/sessions", start)
    session = await started.json()
    await check_against_spec(spec, "POST", "/v1/parking/sessions", started)
    await check_against_spec(
        spec, "POST", "/v1/parking/sessions", await api.call(terminal, "POST", "/v1/parking/sessions", start)
    )
    path = "/v1/parking/sessions/{session_id}"
    await check_against_spec(
        spec, "GET", path, await api.call(terminal, "GET", f"/v1/parking/sessions/{session['session_id']}")
    )
    ended = await api.call(
        terminal, "POST", f"/v1/parking/sessions/{session['session_id']}/end", {"payment_method": "qr"}
    )
    await check_against_spec(spec, "POST", path + "/end", ended)
    await check_against_spec(
        spec, "GET", "/v1/parking/lots/{lot_code}", await api.call(terminal, "GET", f"/v1/parking/lots/{LOT}")
    )
