"""PayOS webhooks: the published test vector, real signatures, forgeries, replays, bad amounts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.banks.notification import BankNotification, Counterparty, WebhookRefused, WebhookRequest
from adapters.banks.payos import PayOSAdapter, signature_of
from tests.support.banks import ACCOUNT_NO, payos_data, payos_request

KEY = b"1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
REF = "CS0G8P5BHV5Z3M7W"
adapter = PayOSAdapter()


def request(data: dict[str, Any], key: bytes = KEY, **overrides: Any) -> WebhookRequest:
    signed = payos_request(data, key, **overrides)
    return WebhookRequest(signed.headers, signed.body, NOW)


def data(**overrides: Any) -> dict[str, Any]:
    base = payos_data(
        amount=200_000, description=f"NGUYEN VAN A chuyen tien {REF} FT23", reference="FT2611240001", at=NOW
    )
    return {**base, **overrides}


def test_the_sdk_test_vector_signs_as_published() -> None:
    # The "webhook" case of payOS's own SDK test cases (payos-lib-python, tests/_crypto/testCases.json).
    published = {
        "accountNumber": "0123456789",
        "amount": 20000,
        "description": "thanh toan",
        "reference": "FT-REFERENCE",
        "transactionDateTime": "2025-12-12 09:00:00",
        "virtualAccountNumber": "",
        "counterAccountBankId": "01202001",
        "counterAccountBankName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "9876543210",
        "virtualAccountName": "",
        "currency": "VND",
        "orderCode": 0,
        "paymentLinkId": "payment-link-id",
        "code": "00",
        "desc": "success",
    }
    assert signature_of(published, b"test_checksum_key") == (
        "302b3becca1672dff99daafae2965f40e48ea3ca39453e4bf37fbcc26807a0e8"
    )


def test_a_signed_webhook_becomes_one_notification() -> None:
    assert adapter.notifications(request(data()), KEY) == [
        BankNotification(
            account_no=ACCOUNT_NO,
            amount_vnd=200_000,
            bank_tx_id="FT2611240001",
            note=f"NGUYEN VAN A chuyen tien {REF} FT23",
            booked_at=NOW,
            counterparty=Counterparty("NGUYEN VAN A", "8888888888", "970415"),
        )
    ]


def test_nulls_are_signed_as_empty_text() -> None:
    signed = data(counterAccountBankName=None, virtualAccountName="")
    assert adapter.notifications(request(signed), KEY)[0].amount_vnd == 200_000


def test_another_key_is_a_forgery() -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(data(), key=b"someone else's key"), KEY)
    assert (refused.value.reason, refused.value.authentic) == ("bad_signature", False)


@pytest.mark.parametrize("field", ["amount", "accountNumber", "description", "reference"])
def test_a_tampered_field_breaks_the_signature(field: str) -> None:
    signed = json.loads(request(data()).body)
    signed["data"][field] = 9_999_999 if field == "amount" else "0000000001"
    forged = WebhookRequest({}, json.dumps(signed).encode(), NOW)
    with pytest.raises(WebhookRefused, match="does not match"):
        adapter.notifications(forged, KEY)


@pytest.mark.parametrize("signature", ["", None])
def test_a_missing_signature_is_refused(signature: str | None) -> None:
    body = json.loads(request(data()).body)
    body["signature"] = signature
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(WebhookRequest({}, json.dumps(body).encode(), NOW), KEY)
    assert refused.value.reason == "missing_signature"


def test_a_stale_transaction_is_refused_as_a_replay() -> None:
    old = data(transactionDateTime=(NOW - timedelta(days=4)).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z"))
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(old), KEY)
    assert (refused.value.reason, refused.value.authentic) == ("stale", False)


@pytest.mark.parametrize("amount", [200_000.5, 200_000.0, "200000", True, None, -5])
def test_an_amount_that_is_not_whole_dong_is_refused(amount: Any) -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(data(amount=amount)), KEY)
    assert (refused.value.reason, refused.value.authentic) == ("bad_amount", True)


def test_an_authentic_failed_payment_books_nothing() -> None:
    assert adapter.notifications(request(data(code="01", desc="failed")), KEY) == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"data": 5, "signature": "ab"}'])
def test_a_malformed_body_is_refused(body: bytes) -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(WebhookRequest({}, body, NOW), KEY)
    assert refused.value.reason == "malformed"
