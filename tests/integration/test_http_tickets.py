"""E-tickets over real HTTP, on each store: products registered as events, bought from a
wallet or by QR, shown with a signed code, validated by a bus validator (accepted once,
refused on passback, a forged code refused), activated, refunded, and the published keys."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.http.signing import RequestSigner
from domain.model.clients import Role
from domain.model.ledger import PartyKind, payable, refunds_payable, wallet
from domain.model.tickets import PaymentMethod
from domain.model.tickets.catalogue import ProductEntry, product_entry_id
from domain.services.product_index import NAME as PRODUCT_INDEX
from domain.services.ticket_products import buy_ticket
from domain.services.tickets import activate_ticket, confirm_ticket_payment
from domain.services.unit_of_work import execute
from qr.ticket_keys import TicketKeyRing, TicketSigner
from qr.tickets import Ticket as SignedTicket
from tests.integration.test_http_openapi import check_against_spec
from tests.integration.test_http_payments import pay
from tests.integration.test_http_wallets import top_up
from tests.support.api import Api, ClientFactory, start_api
from tests.support.ledger import posted_balances

OPERATOR = "transerco"
TRANSIT_ACCOUNT = {"bank_bin": "970415", "account_no": "1140000088", "account_name": "CITY TRANSIT"}
MONTH = {
    "name": "Monthly pass, all routes",
    "kind": "monthly_pass",
    "operator_id": OPERATOR,
    "price_vnd": 200_000,
    "validity": {"unit": "service_days", "length": 30},
    "passback_minutes": 20,
}
SINGLE = {
    "name": "Single ride",
    "kind": "single_ride",
    "operator_id": OPERATOR,
    "price_vnd": 8_000,
    "validity": {"unit": "minutes", "length": 90},
    "passback_minutes": 1,
}
VALIDATOR = "val-32-001"


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str, tmp_path: Path) -> Api:
    # a configured key on every store (PostgreSQL has no development key)
    return await start_api(aiohttp_client, store_url, ticket_key_file=new_key_file(tmp_path / "ticket.pem"))


def new_key_file(path: Path) -> Path:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    return path


async def spec(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = await (await api.call(None, "GET", "/openapi.json")).json()
    return document


async def catalogue(api: Api) -> RequestSigner:
    admin = await api.client(Role.ADMIN)
    operator = {"name": "Transerco", "kind": "transport_operator", "collection_account": TRANSIT_ACCOUNT}
    assert (await api.call(admin, "PUT", f"/v1/payees/{OPERATOR}", operator)).status in (200, 201)
    for code, product in (("MONTH", MONTH), ("SINGLE", SINGLE)):
        response = await api.call(admin, "PUT", f"/v1/tickets/products/{code}", product)
        assert response.status == 201, await response.text()
    return admin


async def buy(api: Api, app: RequestSigner, product: str, method: str, key: str = "auto") -> dict[str, Any]:
    body = {"product_code": product, "rider_id": "rider-lan", "payment_method": method}
    response = await api.call(app, "POST", "/v1/tickets", body, idempotency_key=key)
    assert response.status == 201, await response.text()
    ticket: dict[str, Any] = await response.json()
    return ticket


async def validator(api: Api) -> RequestSigner:
    return await api.client(Role.DEVICE, scope=(VALIDATOR,))


async def tap(
    api: Api, device: RequestSigner, code: str, vehicle: str, at: datetime | None = None, key: str = "auto"
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "vehicle_id": vehicle, "validator_id": VALIDATOR}
    if at is not None:
        body["tapped_at"] = at.isoformat()
    response = await api.call(device, "POST", "/v1/tickets/validate", body, idempotency_key=key)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def test_products_are_registered_as_events_and_revised(api: Api) -> None:
    document = await spec(api)
    admin = await catalogue(api)
    again = await api.call(admin, "PUT", "/v1/tickets/products/MONTH", MONTH)
    assert again.status == 200
    revised = await api.call(admin, "PUT", "/v1/tickets/products/MONTH", {**MONTH, "price_vnd": 220_000})
    assert ((await revised.json())["price_vnd"], revised.status) == (220_000, 200)
    await check_against_spec(document, "PUT", "/v1/tickets/products/{product_code}", revised)
    events = await api.store.load(product_entry_id("MONTH"))
    assert [type(e).__name__ for e in events] == ["Published", "Revised"], "an unchanged PUT records nothing"
    assert isinstance(events[0], ProductEntry.Published)
    app = await api.client(Role.APP)
    read = await api.call(app, "GET", "/v1/tickets/products/MONTH")
    assert (await read.json())["price_vnd"] == 220_000
    await check_against_spec(document, "GET", "/v1/tickets/products/{product_code}", read)
    not_an_operator = await api.call(admin, "PUT", "/v1/tickets/products/X", {**MONTH, "operator_id": "nobody"})
    assert not_an_operator.status == 422
    minutes_too_long = {**SINGLE, "validity": {"unit": "minutes", "length": 2000}}
    too_long = await api.call(admin, "PUT", "/v1/tickets/products/X", minutes_too_long)
    assert (too_long.status, (await too_long.json())["field"]) == (422, "$.validity.length")
    assert (await api.call(app, "GET", "/v1/tickets/products/NOPE")).status == 404


async def products_listed(api: Api, count: int) -> None:
    """Wait until the product list's projection has seen ``count`` products."""
    for _ in range(500):
        rows = await api.store.get_rows(PRODUCT_INDEX, ["count"])
        if int(rows.get("count") or 0) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the product list never reached {count} products")


async def test_products_are_listed_a_page_at_a_time_with_their_current_terms(api: Api) -> None:
    document = await spec(api)
    admin = await catalogue(api)
    day = {**SINGLE, "name": "Day pass", "kind": "day_pass", "price_vnd": 30_000}
    day["validity"] = {"unit": "service_days", "length": 1}
    assert (await api.call(admin, "PUT", "/v1/tickets/products/DAY", day)).status == 201
    revised = {**MONTH, "price_vnd": 220_000, "on_sale": False}
    assert (await api.call(admin, "PUT", "/v1/tickets/products/MONTH", revised)).status == 200
    await products_listed(api, 3)
    app, auditor = await api.client(Role.APP), await api.client(Role.AUDITOR)
    first = await api.call(app, "GET", "/v1/tickets/products?limit=2")
    assert first.status == 200, await first.text()
    await check_against_spec(document, "GET", "/v1/tickets/products", first)
    page = await first.json()
    assert [(p["product_code"], p["price_vnd"], p["on_sale"]) for p in page["products"]] == [
        ("MONTH", 220_000, False),  # as revised since: the entry's current terms
        ("SINGLE", 8_000, True),
    ]
    assert page["next_cursor"] == "2"
    assert page["as_of_position"] > 0
    rest = await (await api.call(auditor, "GET", f"/v1/tickets/products?cursor={page['next_cursor']}")).json()
    assert ([p["product_code"] for p in rest["products"]], rest["next_cursor"]) == (["DAY"], None)
    read = await (await api.call(app, "GET", "/v1/tickets/products/DAY")).json()
    assert rest["products"][0] == read
    too_many = await api.call(app, "GET", "/v1/tickets/products?limit=201")
    assert (too_many.status, (await too_many.json())["field"]) == (422, "limit")
    past_the_end = await (await api.call(app, "GET", "/v1/tickets/products?cursor=9")).json()
    assert (past_the_end["products"], past_the_end["next_cursor"]) == ([], None)


async def test_wallet_purchase_code_validation_passback_and_retries(api: Api) -> None:
    document = await spec(api)
    await catalogue(api)
    await pay(api, await top_up(api, "rider-lan", 500_000), bank_tx_id="FTW1")
    app = await api.client(Role.APP)
    bought = await buy(api, app, "MONTH", "wallet", key="order-1")
    assert (bought["status"], bought["paid_vnd"], bought["payment"]) == ("issued", 200_000, None)
    assert bought["code"].startswith("CST1:")
    retried = await api.call(
        app, "POST", "/v1/tickets", {"product_code": "MONTH", "rider_id": "rider-lan", "payment_method": "wallet"},
        idempotency_key="order-1",
    )  # fmt: skip
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert await retried.json() == bought
    read = await api.call(app, "GET", f"/v1/tickets/{bought['ticket_id']}")
    assert await read.json() == bought
    await check_against_spec(document, "GET", "/v1/tickets/{ticket_id}", read)
    rider, operator = wallet("rider-lan"), payable(PartyKind.OPERATOR, OPERATOR)
    assert await posted_balances(api.store, rider, operator) == {rider: 300_000, operator: 200_000}

    device = await validator(api)
    now = datetime.now(UTC)
    first = await tap(api, device, bought["code"], "bus-32-001", now, key="tap-1")
    assert (first["accepted"], first["ride_no"], first["reason"]) == (True, 1, None)
    replayed = await tap(api, device, bought["code"], "bus-32-001", now, key="tap-1")
    assert replayed == first, "a validator's retry is the same answer, not a second ride"
    other_bus = await tap(api, device, bought["code"], "bus-09-114", now + timedelta(seconds=90))
    assert (other_bus["accepted"], other_bus["ride_no"]) == (True, 2)
    passback = await tap(api, device, bought["code"], "bus-32-001", now + timedelta(seconds=100))
    assert (passback["accepted"], passback["reason"]) == (False, "passback")
    late_upload = await tap(api, device, bought["code"], "bus-32-001", now + timedelta(seconds=60))
    assert late_upload["reason"] == "passback", "a window in time, whatever order taps arrive in"
    active = await (await api.call(app, "GET", f"/v1/tickets/{bought['ticket_id']}")).json()
    assert (active["status"], active["rides_taken"]) == ("active", 2)
    assert active["code"] != bought["code"], "an activated ticket's code states its validity"


async def test_forged_and_copied_codes_are_refused(api: Api) -> None:
    document = await spec(api)
    await catalogue(api)
    await pay(api, await top_up(api, "rider-lan", 100_000), bank_tx_id="FTW2")
    app = await api.client(Role.APP)
    single = await buy(api, app, "SINGLE", "wallet")
    device = await validator(api)
    ticket_id = UUID(single["ticket_id"])
    now = datetime.now(UTC).replace(microsecond=0)
    forged_key = TicketSigner(1, Ed25519PrivateKey.generate())  # the same key id, another key
    forged = forged_key.sign(SignedTicket(ticket_id, "SINGLE", now - timedelta(minutes=1), now + timedelta(days=1)))
    assert (await tap(api, device, forged, "bus-1"))["reason"] == "bad_signature"
    unknown = TicketSigner(77, Ed25519PrivateKey.generate()).sign(
        SignedTicket(ticket_id, "SINGLE", now - timedelta(minutes=1), now + timedelta(days=1))
    )
    assert (await tap(api, device, unknown, "bus-1"))["reason"] == "unknown_key"
    code = single["code"]
    tampered = code[:-3] + ("AAA" if code[-3:] != "AAA" else "BBB")
    assert (await tap(api, device, tampered, "bus-1"))["reason"] in ("bad_signature", "malformed")
    assert (await tap(api, device, "not a ticket", "bus-1"))["reason"] == "malformed"
    accepted = await api.call(
        device, "POST", "/v1/tickets/validate", {"code": code, "vehicle_id": "bus-1", "validator_id": VALIDATOR}
    )
    assert (await accepted.json())["accepted"] is True
    await check_against_spec(document, "POST", "/v1/tickets/validate", accepted)
    copied = await tap(api, device, code, "bus-2")
    assert (copied["accepted"], copied["reason"]) == (False, "already_used"), "a single ride's copy rides no more"
    read = await (await api.call(app, "GET", f"/v1/tickets/{ticket_id}")).json()
    assert read["rides_taken"] == 1, "rejections record nothing"
    elsewhere = await api.call(
        device, "POST", "/v1/tickets/validate", {"code": code, "vehicle_id": "bus-1", "validator_id": "val-other"}
    )
    assert elsewhere.status == 403, "a validator posts only as itself"
    ahead = await api.call(
        device, "POST", "/v1/tickets/validate",
        {"code": code, "vehicle_id": "bus-1", "validator_id": VALIDATOR,
         "tapped_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    )  # fmt: skip
    assert (ahead.status, (await ahead.json())["field"]) == (422, "$.tapped_at")


async def test_qr_purchase_pays_through_payments_then_activate_and_refund(api: Api) -> None:
    document = await spec(api)
    await catalogue(api)
    app = await api.client(Role.APP)
    bought = await buy(api, app, "MONTH", "qr")
    assert (bought["status"], bought["code"], bought["payment"]["amount_vnd"]) == ("awaiting_payment", None, 200_000)
    assert bought["payment"]["account_no"] == TRANSIT_ACCOUNT["account_no"]
    shown = await api.call(app, "POST", "/v1/payments", {"purpose": "ticket", "purpose_id": bought["ticket_id"]})
    assert (await shown.json())["reference"] == bought["payment"]["reference"]
    device = await validator(api)
    # an unpaid ticket has no code; a code signed for it anyway would still be refused
    await pay(api, bought["payment"], bank_tx_id="FTT1")
    path = f"/v1/tickets/{bought['ticket_id']}"
    paid = await (await api.call(app, "GET", path)).json()
    assert (paid["status"], paid["payment_reference"]) == ("issued", bought["payment"]["reference"])
    activated = await api.call(app, "POST", f"{path}/activate")
    assert activated.status == 200, await activated.text()
    await check_against_spec(document, "POST", "/v1/tickets/{ticket_id}/activate", activated)
    assert (await activated.json())["status"] == "active"
    again = await api.call(app, "POST", f"{path}/activate")
    assert again.status == 409
    refund = await api.call(app, "POST", f"{path}/refund", {"reason": "moved away"})
    assert refund.status == 200, await refund.text()
    refunded = await refund.json()
    await check_against_spec(document, "POST", "/v1/tickets/{ticket_id}/refund", refund)
    assert (refunded["status"], refunded["code"]) == ("refunded", None)
    assert 0 < refunded["refunded_vnd"] < 200_000
    assert await posted_balances(api.store, refunds_payable()) == {refunds_payable(): refunded["refunded_vnd"]}
    ended = await tap(api, device, (await activated.json())["code"], "bus-1")
    assert (ended["accepted"], ended["reason"]) == (False, "ended"), "a refunded ticket's code is refused online"


SHORT = {**SINGLE, "validity": {"unit": "minutes", "length": 5}}


async def test_a_ticket_past_its_validity_reads_expired_and_its_taps_are_refused_saying_so(api: Api) -> None:
    """Expiry is computed from the recorded terms when the ticket is read or validated."""
    document = await spec(api)
    admin = await catalogue(api)
    assert (await api.call(admin, "PUT", "/v1/tickets/products/SHORT", SHORT)).status == 201
    app, device, now = await api.client(Role.APP), await validator(api), datetime.now(UTC)

    async def bought(order: str, at: datetime, *, activated: bool) -> str:
        ticket = (await execute(api.store, buy_ticket(
            order_id=order, rider_id="rider-lan", product_code="SHORT", payment_method=PaymentMethod.QR, at=at,
        ))).result  # fmt: skip
        ticket_uuid = UUID(ticket["ticket_id"])
        await execute(api.store, confirm_ticket_payment(ticket_uuid, f"PAY-{order}", 8_000, at))
        if activated:
            await execute(api.store, activate_ticket(ticket_uuid, at))
        return str(ticket_uuid)

    unpaid = (await execute(api.store, buy_ticket(
        order_id="old-unpaid", rider_id="rider-lan", product_code="SHORT", payment_method=PaymentMethod.QR,
        at=now - timedelta(hours=2),
    ))).result  # fmt: skip
    read = await api.call(app, "GET", f"/v1/tickets/{unpaid['ticket_id']}")
    assert ((await read.json())["status"], (await read.json())["code"]) == ("expired", None)
    await check_against_spec(document, "GET", "/v1/tickets/{ticket_id}", read)
    lapsed = await bought("lapsed", now - timedelta(minutes=6), activated=True)
    shown = await (await api.call(app, "GET", f"/v1/tickets/{lapsed}")).json()
    assert (shown["status"], shown["code"], shown["rides_from"]) == ("expired", None, None)
    refund = await api.call(app, "POST", f"/v1/tickets/{lapsed}/refund", {"reason": "too late"})
    assert refund.status == 409
    # a ticket ending a minute from now: its code still verifies (validators' leeway) after that
    ending = await bought("ending", now - timedelta(minutes=4), activated=True)
    active = await (await api.call(app, "GET", f"/v1/tickets/{ending}")).json()
    assert active["status"] == "active"
    after = await tap(api, device, active["code"], "bus-1", now + timedelta(seconds=100))
    assert (after["accepted"], after["reason"]) == (False, "validity_ended")
    assert "expired at" in after["detail"]
    assert "validity ended" in after["detail"]
    before = await tap(api, device, active["code"], "bus-1", now)
    assert (before["accepted"], before["ride_no"]) == (True, 1), "a tap before the deadline rides"


async def test_keys_are_the_public_keys_by_id(api: Api, tmp_path: Path) -> None:
    await catalogue(api)
    await pay(api, await top_up(api, "rider-lan", 100_000), bank_tx_id="FTW3")
    app = await api.client(Role.APP)
    single = await buy(api, app, "SINGLE", "wallet")
    device = await validator(api)
    response = await api.call(device, "GET", "/v1/tickets/keys")
    assert response.status == 200
    await check_against_spec(await spec(api), "GET", "/v1/tickets/keys", response)
    document = await response.json()
    assert [k["kid"] for k in document["keys"]] == ["1"]
    assert not {"d", "p", "q"} & set(document["keys"][0]), "no private material"
    offline = TicketKeyRing.from_jwks(document).verify(single["code"], datetime.now(UTC))
    assert str(offline.ticket.ticket_id) == single["ticket_id"]


async def test_a_rotated_out_key_stays_published_and_valid(
    aiohttp_client: ClientFactory, store_url: str, tmp_path: Path
) -> None:
    old_key = new_key_file(tmp_path / "old.pem")
    before = await start_api(aiohttp_client, store_url, ticket_key_file=old_key)
    await catalogue(before)
    await pay(before, await top_up(before, "rider-lan", 300_000), bank_tx_id="FTW4")
    single = await buy(before, await before.client(Role.APP), "MONTH", "wallet")
    device = await validator(before)
    keyring = tmp_path / "retired.json"
    keyring.write_text(json.dumps(await (await before.call(device, "GET", "/v1/tickets/keys")).json()))
    after = await start_api(
        aiohttp_client, store_url, ticket_key_file=new_key_file(tmp_path / "new.pem"), ticket_key_id=2,
        ticket_keyring_file=keyring,
    )  # fmt: skip
    device = await validator(after)
    published = await (await after.call(device, "GET", "/v1/tickets/keys")).json()
    assert sorted(k["kid"] for k in published["keys"]) == ["1", "2"]
    assert (await tap(after, device, single["code"], "bus-1"))["accepted"] is True
    app = await after.client(Role.APP)
    reissued = await (await after.call(app, "GET", f"/v1/tickets/{single['ticket_id']}")).json()
    assert TicketKeyRing.from_jwks(published).verify(reissued["code"], datetime.now(UTC)).key_id == 2


async def test_without_a_key_on_postgres_tickets_are_not_sold(aiohttp_client: ClientFactory, pg_url: str) -> None:
    api = await start_api(aiohttp_client, pg_url)
    await catalogue(api)
    app = await api.client(Role.APP)
    body = {"product_code": "MONTH", "rider_id": "rider-lan", "payment_method": "qr"}
    refused = await api.call(app, "POST", "/v1/tickets", body)
    assert refused.status == 503
    assert "CITYSETTLE_TICKET_KEY_FILE" in (await refused.json())["detail"]
    keys = await api.call(app, "GET", "/v1/tickets/keys")
    assert (keys.status, await keys.json()) == (200, {"keys": []})


async def test_sqlite_without_a_key_uses_its_development_key(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    first = await start_api(aiohttp_client, url)
    key_file = tmp_path / "events.db.ticket-ed25519.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    device = await validator(first)
    published = await (await first.call(device, "GET", "/v1/tickets/keys")).json()
    second = await start_api(aiohttp_client, url)
    device = await validator(second)
    assert await (await second.call(device, "GET", "/v1/tickets/keys")).json() == published, "the same key again"
