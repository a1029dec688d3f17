"""Bank notifications over real HTTP, on each store: every provider's genuine, forged and
repeated webhooks, unknown connectors and accounts, and what reaches the ledger."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiohttp import ClientResponse

from adapters.secrets import SecretSealer
from domain.model.bank_connectors import BankProvider, SealedSecret
from domain.model.clients import Role
from domain.model.ledger import PartyKind, bank_clearing, payable, suspense
from domain.model.payments import BankCredit, Counterparty, Payment, PaymentStatus, bank_credit_id, payment_id
from domain.services.bank_connectors import register_bank_connector, rotate_bank_connector_secret
from domain.services.fees import issue_fee_invoice
from domain.services.unit_of_work import UnitOfWork, execute
from qr import vietqr
from tests.integration.test_http_openapi import check_against_spec
from tests.support.api import Api, ClientFactory, start_api
from tests.support.banks import (
    ACCOUNT_NO,
    BANK_BIN,
    CamtCredit,
    SignedRequest,
    camt054,
    camt054_request,
    casso_body,
    casso_request,
    payos_data,
    payos_request,
    sepay_body,
    sepay_request,
)
from tests.support.catalogue import CATALOGUE, TREASURY
from tests.support.ledger import posted_balances

SECRETS = {p: f"{p.value}-secret-0123456789abcdef".encode() for p in BankProvider}
ACCOUNT = {"bank_bin": BANK_BIN, "account_no": ACCOUNT_NO, "account_name": "SO TU PHAP HA NOI"}
CLEARING = bank_clearing(BANK_BIN, ACCOUNT_NO)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    api = await start_api(aiohttp_client, store_url)
    sealer = SecretSealer(None)
    for provider, secret in SECRETS.items():
        sealed = SealedSecret(sealer.seal(secret))
        await execute(api.store, register_bank_connector(provider.value, provider, sealed, datetime.now(UTC)))
    admin = await api.client(Role.ADMIN)
    payee = {"name": "So Tu phap Ha Noi", "kind": "agency", "collection_account": ACCOUNT}
    assert (await api.call(admin, "PUT", "/v1/payees/so-tu-phap", payee)).status == 201
    return api


async def pending_payment(api: Api, service_code: str = "LLTP-01") -> str:
    """A fee invoice's payment to the agency's collection account; its reference."""
    use_case = issue_fee_invoice(
        CATALOGUE,
        invoice_no=f"HS-{uuid4().hex[:8]}",
        payer_id="001099012345",
        service_code=service_code,
        channel="counter",
        collection=TREASURY,
        at=datetime.now(UTC),
    )
    return str((await execute(api.store, use_case)).result["payment"]["reference"])


@dataclass(frozen=True)
class Webhook:
    """One provider's delivery of one credit, genuine or forged."""

    provider: BankProvider

    def request(self, *, amount: Any, note: str, tx: str, key: bytes | None = None) -> SignedRequest:
        secret = SECRETS[self.provider] if key is None else key
        now = datetime.now(UTC)
        if self.provider is BankProvider.PAYOS:
            return payos_request(payos_data(amount=amount, description=note, reference=tx, at=now), secret)
        if self.provider is BankProvider.CASSO:
            return casso_request(casso_body(amount=amount, description=note, reference=tx, at=now), secret, now)
        if self.provider is BankProvider.SEPAY:
            return sepay_request(sepay_body(amount=amount, content=note, reference=tx, at=now), secret.decode())
        document = camt054([CamtCredit(str(amount), tx, note)], booked=now.date())
        return camt054_request(document, secret, now)


async def deliver(api: Api, connector: str, signed: SignedRequest) -> ClientResponse:
    return await api.http.post(f"/v1/banks/{connector}/notifications", data=signed.body, headers=signed.headers)


async def agency_payable_vnd(api: Api) -> int:
    """What finance sees on GET /v1/ledger/accounts/{id} once the balances caught up."""
    finance = await api.client(Role.FINANCE)
    credits_vnd = 0
    for _ in range(50):  # the balances projection follows the log: bounded wait
        answer = await (await api.call(finance, "GET", f"/v1/ledger/accounts/{AGENCY}")).json()
        credits_vnd = answer["credits_vnd"]
        if credits_vnd:
            break
        await asyncio.sleep(0.1)
    return int(credits_vnd)


async def payment_status(api: Api, reference: str) -> PaymentStatus:
    payment = await UnitOfWork(api.store).get(Payment, payment_id(reference))
    return payment.status


PROVIDERS = list(BankProvider)


def credit_id(payment: dict[str, Any]) -> str:
    (credit,) = payment["credits"]
    return str(bank_credit_id(credit["bank_bin"], credit["account_no"], credit["bank_tx_id"]))


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.value)
async def test_a_genuine_notification_pays_the_payment_once(api: Api, provider: BankProvider) -> None:
    reference = await pending_payment(api)
    signed = Webhook(provider).request(amount=200_000, note=f"MBVCB.1234.{reference}.CT tu 888", tx="FT26112401")
    first = await deliver(api, provider.value, signed)
    assert first.status == 200, await first.text()
    assert (await first.json())["success"] is True
    assert await payment_status(api, reference) is PaymentStatus.PAID
    head = await api.store.head()
    again = await deliver(api, provider.value, signed)
    assert again.status == 200, "a repeated delivery is acknowledged, so the bank stops retrying"
    assert (await again.json())["success"] is True
    assert (await api.store.head()).position == head.position, "a repeated delivery records nothing"
    assert await posted_balances(api.store, CLEARING, AGENCY) == {CLEARING: 200_000, AGENCY: 200_000}


async def test_payos_is_answered_exactly_as_it_expects(api: Api) -> None:
    reference = await pending_payment(api)
    response = await deliver(
        api, "payos", Webhook(BankProvider.PAYOS).request(amount=200_000, note=reference, tx="FT1")
    )
    assert response.status == 200
    assert await response.json() == {"success": True}


# What payOS posts when a webhook URL is registered (its docs' sample data, signed with the
# channel's checksum key): the URL is accepted only if this is answered 2xx.
PAYOS_CONFIRMATION = {
    "orderCode": 123,
    "amount": 3000,
    "description": "VQRIO123",
    "accountNumber": "12345678",
    "reference": "TF230204212323",
    "transactionDateTime": "2023-02-04 18:25:00",
    "currency": "VND",
    "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
    "code": "00",
    "desc": "Thành công",
    "counterAccountBankId": "",
    "counterAccountBankName": "",
    "counterAccountName": "",
    "counterAccountNumber": "",
    "virtualAccountName": "",
    "virtualAccountNumber": "",
}


@pytest.mark.parametrize("description", ["VQRIO123", "Ma giao dich thu nghiem"])
async def test_payos_webhook_url_confirmation_is_answered_and_moves_nothing(api: Api, description: str) -> None:
    head = await api.store.head()
    confirmation = payos_request({**PAYOS_CONFIRMATION, "description": description}, SECRETS[BankProvider.PAYOS])
    response = await deliver(api, "payos", confirmation)
    assert response.status == 200, await response.text()
    assert await response.json() == {"success": True}
    assert (await api.store.head()).position == head.position, "nothing recorded, no money moved"
    forged = payos_request({**PAYOS_CONFIRMATION, "description": description}, b"a guessed key")
    assert (await deliver(api, "payos", forged)).status == 401, "only an authentic confirmation is answered"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.value)
async def test_a_forged_notification_is_401_and_records_nothing(api: Api, provider: BankProvider) -> None:
    reference = await pending_payment(api)
    head = await api.store.head()
    forged = Webhook(provider).request(amount=200_000, note=reference, tx="FT-FORGED", key=b"a guessed key")
    response = await deliver(api, provider.value, forged)
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert (await response.json())["reason"] == "bad_signature"
    assert (await api.store.head()).position == head.position
    assert await payment_status(api, reference) is PaymentStatus.PENDING


async def test_after_a_rotation_the_old_secret_is_refused_once_its_grace_ends(api: Api) -> None:
    reference = await pending_payment(api)
    new_secret = b"payos-rotated-secret-fedcba9876543210"
    sealed = SealedSecret(SecretSealer(None).seal(new_secret))
    now = datetime.now(UTC)
    await execute(api.store, rotate_bank_connector_secret("payos", sealed, timedelta(minutes=10), now))
    during = Webhook(BankProvider.PAYOS).request(amount=1_000, note="an sang", tx="FT-OLD-1")
    assert (await deliver(api, "payos", during)).status == 200, "the old secret during its grace"
    newer = sealed_with(new_secret)
    await execute(api.store, rotate_bank_connector_secret("payos", newer, timedelta(0), datetime.now(UTC)))
    head = await api.store.head()
    old = Webhook(BankProvider.PAYOS).request(amount=200_000, note=reference, tx="FT-OLD-2")
    refused = await deliver(api, "payos", old)
    assert (refused.status, (await refused.json())["reason"]) == (401, "bad_signature")
    assert (await api.store.head()).position == head.position
    current = Webhook(BankProvider.PAYOS).request(amount=200_000, note=reference, tx="FT-NEW", key=new_secret)
    assert (await deliver(api, "payos", current)).status == 200
    assert await payment_status(api, reference) is PaymentStatus.PAID


def sealed_with(secret: bytes) -> SealedSecret:
    return SealedSecret(SecretSealer(None).seal(secret))


async def test_a_tampered_body_is_401(api: Api) -> None:
    signed = Webhook(BankProvider.PAYOS).request(amount=2_000, note="x", tx="FT9")
    body = json.loads(signed.body)
    body["data"]["amount"] = 2_000_000
    tampered = SignedRequest(signed.headers, json.dumps(body).encode())
    assert (await deliver(api, "payos", tampered)).status == 401


async def test_an_unknown_connector_is_401_and_records_nothing(api: Api) -> None:
    head = await api.store.head()
    signed = Webhook(BankProvider.PAYOS).request(amount=200_000, note="x", tx="FT1")
    for name in ("vietcombank", "NOT A NAME", "payos-2"):
        response = await deliver(api, name, signed)
        assert response.status == 401
        assert (await response.json())["reason"] == "unknown_connector"
    assert (await api.store.head()).position == head.position


async def test_an_account_that_is_no_collection_account_is_422(api: Api) -> None:
    head = await api.store.head()
    now = datetime.now(UTC)
    data = payos_data(amount=50_000, description="x", reference="FT7", at=now, account_no="999888777")
    response = await deliver(api, "payos", payos_request(data, SECRETS[BankProvider.PAYOS]))
    assert response.status == 422
    assert (await response.json())["reason"] == "unknown_account"
    assert (await api.store.head()).position == head.position


async def test_a_fractional_amount_is_422_and_records_nothing(api: Api) -> None:
    head = await api.store.head()
    response = await deliver(api, "casso", Webhook(BankProvider.CASSO).request(amount=1500.5, note="x", tx="FT8"))
    assert response.status == 422
    assert (await response.json())["reason"] == "bad_amount"
    assert (await api.store.head()).position == head.position


async def test_a_credit_without_our_reference_goes_to_suspense(api: Api) -> None:
    response = await deliver(api, "sepay", Webhook(BankProvider.SEPAY).request(amount=7_000, note="an trua", tx="FT5"))
    assert response.status == 200, await response.text()
    assert await posted_balances(api.store, CLEARING, suspense()) == {CLEARING: 7_000, suspense(): 7_000}


async def test_a_camt054_upload_books_every_credit_and_lists_them(api: Api) -> None:
    reference = await pending_payment(api, "TP-CT-01")  # 2,000 đồng
    credits = [CamtCredit("2000", "FT-A", f"LE PHI {reference}"), CamtCredit("5000", "FT-B", "khong ro")]
    signed = camt054_request(camt054(credits, booked=date.today()), SECRETS[BankProvider.CAMT054], datetime.now(UTC))
    response = await deliver(api, "camt054", signed)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert [(c["bank_tx_id"], c["outcome"], c["duplicate"]) for c in answer["credits"]] == [
        ("FT-A", "exact", False),
        ("FT-B", "unmatched", False),
    ]
    assert [c["counterparty"]["name"] for c in answer["credits"]] == ["NGUYEN VAN A", "NGUYEN VAN A"]
    again = await (await deliver(api, "camt054", signed)).json()
    assert [c["duplicate"] for c in again["credits"]] == [True, True]


async def test_refusals_are_counted_by_provider_and_reason(api: Api) -> None:
    forged = Webhook(BankProvider.SEPAY).request(amount=1_000, note="x", tx="FT1", key=b"guess")
    await deliver(api, "sepay", forged)
    await deliver(api, "nobody", forged)
    metrics = await (await api.http.get("/metrics")).text()
    assert 'citysettle_bank_webhook_failures_total{provider="sepay",reason="bad_signature"} 1.0' in metrics
    assert 'citysettle_bank_webhook_failures_total{provider="unknown",reason="unknown_connector"} 1.0' in metrics


async def test_the_whole_day_from_the_catalogue_to_the_agencys_payable(api: Api) -> None:
    """Register payee and fee → issue invoice → payment with QR → PayOS notification →
    payment and invoice paid → the ledger shows the agency's payable."""
    admin = await api.client(Role.ADMIN)
    service = {"name": "Cap phieu ly lich tu phap", "payee_id": "so-tu-phap", "amount_vnd": 200_000}
    service |= {"legal_basis": "Thong tu 244/2016/TT-BTC", "subsidies": []}
    assert (await api.call(admin, "PUT", "/v1/fees/services/LLTP-01", service)).status == 201
    terminal = await api.client(Role.TERMINAL)
    invoice_body = {"service_code": "LLTP-01", "payer": {"name": "Nguyen Van A"}, "channel": "counter"}
    invoice = await (await api.call(terminal, "POST", "/v1/fees/invoices", invoice_body)).json()
    asked = {"purpose": "fee_invoice", "purpose_id": invoice["invoice_no"]}
    created = await api.call(terminal, "POST", "/v1/payments", asked)
    assert created.status == 201, await created.text()
    payment = await created.json()
    assert (await api.call(terminal, "GET", payment["links"]["qr_svg"])).status == 200
    qr = vietqr.decode(payment["qr_payload"])  # what the citizen's banking app reads
    assert (qr.bank_bin, qr.account, qr.amount_vnd) == (BANK_BIN, ACCOUNT_NO, 200_000)

    # the citizen's bank decorates and truncates the note; PayOS notifies us
    note = f"MBVCB.8812345.{qr.purpose}.CT tu 0123456789 NGUYEN VAN A"
    data = payos_data(amount=qr.amount_vnd, description=note, reference="FT26335AB12CD", at=datetime.now(UTC))
    delivered = await deliver(api, "payos", payos_request(data, SECRETS[BankProvider.PAYOS]))
    assert delivered.status == 200
    assert await delivered.json() == {"success": True}

    read = await api.call(terminal, "GET", f"/v1/payments/{payment['id']}")
    paid = await read.json()
    assert (paid["status"], paid["paid_vnd"], paid["due_vnd"]) == ("paid", 200_000, 0)
    (credit,) = paid["credits"]
    assert (credit["bank_tx_id"], credit["amount_vnd"], credit["outcome"]) == ("FT26335AB12CD", 200_000, "exact")
    assert credit["counterparty"] == {"name": "NGUYEN VAN A", "account_no": "8888888888", "bank": "970415"}
    spec = await (await api.http.get("/openapi.json")).json()
    await check_against_spec(spec, "GET", "/v1/payments/{payment_id}", read)
    recorded = await UnitOfWork(api.store).get(BankCredit, UUID(credit_id(paid)))
    assert recorded.counterparty == Counterparty("NGUYEN VAN A", "8888888888", "970415"), "kept with the credit"
    settled = await (await api.call(terminal, "GET", f"/v1/fees/invoices/{invoice['invoice_no']}")).json()
    assert settled["status"] == "paid"
    assert await agency_payable_vnd(api) == 200_000


async def test_answers_match_the_openapi_document(api: Api) -> None:
    spec = await (await api.http.get("/openapi.json")).json()
    path = "/v1/banks/{connector}/notifications"
    operation = spec["paths"][path]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "application/xml"}
    assert operation["security"] == []
    reference = await pending_payment(api)
    signed = Webhook(BankProvider.PAYOS).request(amount=200_000, note=reference, tx="FT1")
    forged = Webhook(BankProvider.PAYOS).request(amount=1, note="x", tx="FT2", key=b"guess")
    fractional = Webhook(BankProvider.CASSO).request(amount=1.5, note="x", tx="FT3")
    for connector, request in (("payos", signed), ("payos", forged), ("casso", fractional)):
        await check_against_spec(spec, "POST", path, await deliver(api, connector, request))
