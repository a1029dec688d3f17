"""Payments over real HTTP, on each store: asked for a purpose, read, QR images, cancel, SSE."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import zxingcpp
from PIL import Image

from adapters.http.signing import RequestSigner
from domain.model.clients import Role, client_of_key, client_stream_id
from domain.model.fees import FeeInvoice, InvoiceStatus
from domain.model.parking import PaymentMethod
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, CollectionAccount, credit_bank_transfer
from domain.services.tickets import purchase_ticket_by_qr
from domain.services.unit_of_work import UnitOfWork, execute
from tests.integration.test_http_fees import INVOICE, seed
from tests.support.api import Api, ClientFactory, start_api
from tests.support.parking import CITY, HOUR, OPERATOR, T0, arrival, end, open_lot, start

CITY_ACCOUNT = {"bank_bin": CITY.bank_bin, "account_no": CITY.account_no, "account_name": CITY.name}


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def invoice_payment(api: Api) -> tuple[RequestSigner, dict[str, Any]]:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    invoice = await (await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)).json()
    response = await api.call(
        terminal, "POST", "/v1/payments", {"purpose": "fee_invoice", "purpose_id": invoice["invoice_no"]}
    )
    assert response.status == 201, await response.text()
    payment: dict[str, Any] = await response.json()
    assert payment == invoice["payment"]
    return terminal, payment


async def pay(api: Api, payment: dict[str, Any], bank_tx_id: str = "FT1", amount_vnd: int | None = None) -> None:
    note = f"MBVCB.1.{payment['reference']}.le phi"
    amount = payment["amount_vnd"] if amount_vnd is None else amount_vnd
    notice = BankNotice(payment["bank_bin"], payment["account_no"], bank_tx_id, amount, note, datetime.now(UTC))
    await execute(api.store, credit_bank_transfer(notice, datetime.now(UTC), ON_PAID))


async def test_a_fee_invoice_payment_is_shown_and_read(api: Api) -> None:
    terminal, payment = await invoice_payment(api)
    assert (payment["status"], payment["amount_vnd"], payment["due_vnd"]) == ("pending", 200_000, 200_000)
    display = payment["links"].pop("display")
    assert payment["links"] == {
        "qr_png": f"/v1/payments/{payment['id']}/qr.png",
        "qr_svg": f"/v1/payments/{payment['id']}/qr.svg",
        "events": f"/v1/payments/{payment['id']}/events",
    }
    assert re.fullmatch(rf"/counter/{payment['id']}\?t=\d+\.[\w-]{{22}}", display), display
    payment["links"]["display"] = display
    read = await api.call(terminal, "GET", f"/v1/payments/{payment['id']}")
    assert await read.json() == payment
    await pay(api, payment)
    paid = await (await api.call(terminal, "GET", f"/v1/payments/{payment['id']}")).json()
    assert (paid["status"], paid["paid_vnd"], paid["due_vnd"]) == ("paid", 200_000, 0)


async def test_every_answer_carrying_a_payment_carries_its_credits_as_its_read_does(api: Api) -> None:
    """Asking again for an underpaid invoice's payment and reading the invoice show the bank
    credits the payment took, as `GET /v1/payments/{id}` does."""
    terminal, payment = await invoice_payment(api)
    await pay(api, payment, "FT-PART-1", amount_vnd=50_000)
    await pay(api, payment, "FT-PART-2", amount_vnd=20_000)
    read = await (await api.call(terminal, "GET", f"/v1/payments/{payment['id']}")).json()
    assert [(c["bank_tx_id"], c["amount_vnd"]) for c in read["credits"]] == [
        ("FT-PART-1", 50_000),
        ("FT-PART-2", 20_000),
    ]
    assert (read["status"], read["paid_vnd"], read["due_vnd"]) == ("pending", 70_000, 130_000)
    ask = {"purpose": "fee_invoice", "purpose_id": payment["purpose_id"]}
    asked = await api.call(terminal, "POST", "/v1/payments", ask)
    assert asked.status == 201, await asked.text()
    assert await asked.json() == read
    number = (await UnitOfWork(api.store).get(FeeInvoice, UUID(read["purpose_id"]))).invoice_no
    invoice = await (await api.call(terminal, "GET", f"/v1/fees/invoices/{number}")).json()
    assert invoice["payment"] == read
    replayed = await api.call(terminal, "POST", "/v1/payments", ask, idempotency_key="ask-again")
    assert await replayed.json() == read
    await pay(api, payment, "FT-PART-3", amount_vnd=130_000)
    paid = await (await api.call(terminal, "GET", f"/v1/payments/{payment['id']}")).json()
    assert [c["bank_tx_id"] for c in paid["credits"]] == ["FT-PART-1", "FT-PART-2", "FT-PART-3"]
    assert (await (await api.call(terminal, "GET", f"/v1/fees/invoices/{number}")).json())["payment"] == paid


async def test_a_terminal_cannot_choose_the_amount(api: Api) -> None:
    terminal, payment = await invoice_payment(api)
    body = {"purpose": "fee_invoice", "purpose_id": payment["purpose_id"], "amount_vnd": 1_000}
    response = await api.call(terminal, "POST", "/v1/payments", body)
    assert response.status == 422
    assert (await response.json())["field"] == "$.amount_vnd"


async def test_unknown_payments_are_404(api: Api) -> None:
    terminal = await api.client(Role.TERMINAL)
    for payment_id in ("not-a-uuid", "6f1c0c43-52c3-4c51-8a83-b9e1b2c2a1f0"):
        assert (await api.call(terminal, "GET", f"/v1/payments/{payment_id}")).status == 404
        assert (await api.call(terminal, "GET", f"/v1/payments/{payment_id}/qr.png")).status == 404
    body = {"purpose": "fee_invoice", "purpose_id": "FI-NONE"}
    assert (await api.call(terminal, "POST", "/v1/payments", body)).status == 404


async def test_qr_images_carry_the_payload_and_a_strong_etag(api: Api) -> None:
    terminal, payment = await invoice_payment(api)
    png = await api.call(terminal, "GET", payment["links"]["qr_png"])
    assert png.status == 200
    assert png.content_type == "image/png"
    etag = png.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    image = Image.open(io.BytesIO(await png.read()))
    image.load()
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [payment["qr_payload"]]
    again = await api.call(terminal, "GET", payment["links"]["qr_png"], headers={"If-None-Match": etag})
    assert again.status == 304
    svg = await api.call(terminal, "GET", payment["links"]["qr_svg"])
    assert svg.content_type == "image/svg+xml"
    assert svg.headers["ETag"] != etag
    assert (await svg.text()).lstrip().startswith("<?xml")


async def test_a_pending_payment_can_be_cancelled_once(api: Api) -> None:
    terminal, payment = await invoice_payment(api)
    path = f"/v1/payments/{payment['id']}/cancel"
    cancelled = await api.call(terminal, "POST", path, {"reason": "payer left"})
    assert (await cancelled.json())["status"] == "cancelled"
    assert (await api.call(terminal, "POST", path, {"reason": "payer left"})).status == 409
    # the invoice's id (the payment's purpose_id) names it as well as its number; a lapsed or
    # cancelled payment is followed by the next attempt's, with its own reference
    ask = {"purpose": "fee_invoice", "purpose_id": payment["purpose_id"], "ttl_s": 600}
    again = await api.call(terminal, "POST", "/v1/payments", ask)
    assert again.status == 201, await again.text()
    retried = await again.json()
    assert (retried["status"], retried["amount_vnd"]) == ("pending", payment["amount_vnd"])
    assert retried["reference"] != payment["reference"]
    same = await api.call(terminal, "POST", "/v1/payments", ask)
    assert (await same.json())["reference"] == retried["reference"], "a pending payment is shown again"
    await pay(api, retried)
    invoice = await UnitOfWork(api.store).get(FeeInvoice, UUID(retried["purpose_id"]))
    assert invoice.status is InvoiceStatus.PAID


async def test_wallet_topups_name_their_amount_and_a_retry_is_one_payment(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    wallets = {"name": "Vi dien tu", "kind": "transport_operator", "collection_account": CITY_ACCOUNT}
    assert (await api.call(admin, "PUT", "/v1/payees/wallets", wallets)).status == 201
    app = await api.client(Role.APP)
    body = {"purpose": "wallet_topup", "purpose_id": "rider-1", "amount_vnd": 50_000}
    first = await api.call(app, "POST", "/v1/payments", body, idempotency_key="t1")
    assert first.status == 201, await first.text()
    assert (await first.json())["amount_vnd"] == 50_000
    retry = await api.call(app, "POST", "/v1/payments", body, idempotency_key="t1")
    assert (await retry.json())["id"] == (await first.json())["id"]
    missing = await api.call(app, "POST", "/v1/payments", {"purpose": "wallet_topup", "purpose_id": "rider-1"})
    assert (missing.status, (await missing.json())["field"]) == (422, "$.amount_vnd")
    floats = await api.call(app, "POST", "/v1/payments", {**body, "amount_vnd": 50_000.5})
    assert (floats.status, (await floats.json())["field"]) == (422, "$.amount_vnd")


async def test_an_ended_parking_session_is_paid_to_its_operator(api: Api) -> None:
    admin = await api.client(Role.ADMIN)
    operator = {"name": "Hoan Kiem parking", "kind": "parking_operator", "collection_account": CITY_ACCOUNT}
    assert (await api.call(admin, "PUT", f"/v1/payees/{OPERATOR}", operator)).status == 201
    await open_lot(api.store)
    session = await start(api.store, arrival("gate-9"))
    await end(api.store, session, T0 + 3 * HOUR, PaymentMethod.QR)
    attendant = await api.client(Role.TERMINAL, scope=("HK-01",))
    body = {"purpose": "parking_session", "purpose_id": str(session), "ttl_s": 300}
    response = await api.call(attendant, "POST", "/v1/payments", body)
    assert response.status == 201, await response.text()
    payment = await response.json()
    assert (payment["amount_vnd"], payment["purpose"], payment["account_no"]) == (
        85_000,
        "parking_session",
        CITY.account_no,
    )
    elsewhere = await api.client(Role.TERMINAL, scope=("OTHER-LOT",))
    assert (await api.call(elsewhere, "POST", "/v1/payments", body)).status == 403


async def read_events(api: Api, signer: RequestSigner, path: str, last_id: str | None = None) -> list[dict[str, Any]]:
    headers = {"Last-Event-ID": last_id} if last_id else {}
    response = await api.call(signer, "GET", path, headers=headers)
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    events: list[dict[str, Any]] = []
    event: dict[str, Any] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if "data" in event:
                events.append(event)
            event = {}
        elif line.startswith(("id: ", "data: ")):
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value
    return events


async def test_events_stream_status_changes_and_resume_after_last_event_id(api: Api) -> None:
    terminal, payment = await invoice_payment(api)
    path = payment["links"]["events"]
    reading = asyncio.create_task(read_events(api, terminal, path))
    await asyncio.sleep(0.3)
    await pay(api, payment)
    events = await asyncio.wait_for(reading, 10)
    assert [e["data"]["status"] for e in events] == ["pending", "paid"]
    resumed = await asyncio.wait_for(read_events(api, terminal, path, last_id=events[0]["id"]), 10)
    assert [e["data"]["status"] for e in resumed] == ["paid"]
    assert await asyncio.wait_for(read_events(api, terminal, path, last_id=events[1]["id"]), 10) == []


async def test_a_ticket_bought_by_qr_shows_its_payment(api: Api) -> None:
    transit = CollectionAccount("970415", "1140000088", "CITY TRANSIT")
    bought = await execute(
        api.store,
        purchase_ticket_by_qr(
            order_id="kiosk-7", rider_id="rider-lan", operator_id="transerco", product_code="SINGLE-STU",
            collection=transit, at=datetime.now(UTC), concession_evidence="HUST-20231234",
        ),
    )  # fmt: skip
    app = await api.client(Role.APP)
    body = {"purpose": "ticket", "purpose_id": bought.result["ticket_id"]}
    response = await api.call(app, "POST", "/v1/payments", body)
    assert response.status == 201, await response.text()
    assert (await response.json())["reference"] == bought.result["payment"]["reference"]
    with_ttl = await api.call(app, "POST", "/v1/payments", {**body, "ttl_s": 600})
    assert (with_ttl.status, (await with_ttl.json())["field"]) == (422, "$.ttl_s")
    unknown = await api.call(
        app, "POST", "/v1/payments", {**body, "purpose_id": "6f1c0c43-52c3-4c51-8a83-b9e1b2c2a1f0"}
    )
    assert unknown.status == 404


async def test_asking_again_for_a_payable_invoice_reads_the_invoice_and_its_payment_only(api: Api) -> None:
    """The agency's collection account matters only when a new payment is made: the payment
    a counter asks for while the invoice's QR is still payable costs two stream reads."""
    terminal, payment = await invoice_payment(api)
    store: Any = api.store
    loaded: list[UUID] = []
    load = store.load

    async def counted(stream_id: UUID, after_version: int = 0) -> Any:
        loaded.append(stream_id)
        return await load(stream_id, after_version)

    store.load = counted
    again = await api.call(
        terminal, "POST", "/v1/payments", {"purpose": "fee_invoice", "purpose_id": payment["purpose_id"]}
    )
    assert again.status == 201
    assert (await again.json())["id"] == payment["id"]
    client = client_stream_id(client_of_key(terminal.key_id))  # the tests' client cache lasts 0 s
    assert sorted(str(i) for i in loaded if i != client) == sorted([payment["purpose_id"], payment["id"]])


def payments_counted(metrics: str) -> dict[tuple[str, str], float]:
    found = re.findall(r'^citysettle_payments_total\{method="(\w+)",status="(\w+)"\} ([0-9.]+)$', metrics, re.M)
    return {(method, status): float(value) for method, status, value in found}


async def test_metrics_count_payments_by_method_and_status(api: Api) -> None:
    await open_lot(api.store)  # (its driver's wallet top-up is a QR payment too)
    before = payments_counted(await (await api.http.get("/metrics")).text())
    assert before == {("cashless", "pending"): 1.0, ("cashless", "paid"): 1.0}
    terminal, payment = await invoice_payment(api)
    await api.call(terminal, "POST", f"/v1/payments/{payment['id']}/cancel", {"reason": "payer left"})
    ask = {"purpose": "fee_invoice", "purpose_id": payment["purpose_id"]}
    retried = await (await api.call(terminal, "POST", "/v1/payments", ask, idempotency_key="again")).json()
    replay = await api.call(terminal, "POST", "/v1/payments", ask, idempotency_key="again")
    assert replay.headers["Idempotent-Replayed"] == "true"
    await pay(api, retried)
    for gate in ("gate-1", "gate-2"):
        session = await start(api.store, arrival(gate))
        await end(api.store, session, T0 + 3 * HOUR, PaymentMethod.CASH)
    metrics = await (await api.http.get("/metrics")).text()
    after = payments_counted(metrics)
    assert {labels: after[labels] - before.get(labels, 0.0) for labels in after} == {
        ("cashless", "pending"): 2.0,  # the invoice's payment, and its next attempt (a replay counts nothing)
        ("cashless", "cancelled"): 1.0,
        ("cashless", "paid"): 1.0,
        ("cash", "paid"): 2.0,
    }
