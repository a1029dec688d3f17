"""Casso v2 webhooks: the documented example signature, real signatures, forgeries, replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.banks.casso import CassoAdapter, signature_of
from adapters.banks.notification import Counterparty, WebhookRefused, WebhookRequest
from tests.support.banks import ACCOUNT_NO, casso_body, casso_request

KEY = b"mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
REF = "CS0G8P5BHV5Z3M7W"
adapter = CassoAdapter()


def body(**overrides: Any) -> dict[str, Any]:
    webhook = casso_body(amount=150_000, description=f"MBVCB.123.{REF}.CT tu 888", reference="FT2611240002", at=NOW)
    webhook["data"].update(overrides)
    return webhook


def request(webhook: dict[str, Any], *, key: bytes = KEY, signed_at: datetime = NOW) -> WebhookRequest:
    signed = casso_request(webhook, key, signed_at)
    return WebhookRequest(signed.headers, signed.body, NOW)


def test_the_documented_example_signs_as_published() -> None:
    # Casso's developer documentation's verification example (webhook v2), with its key and header.
    example = {
        "error": 0,
        "data": {
            "id": 0,
            "reference": "MA_GIAO_DICH_THU_NGHIEM",
            "description": "giao dich thu nghiem",
            "amount": 599000,
            "runningBalance": 25000000,
            "transactionDateTime": "2024-10-03 15:06:37",
            "accountNumber": "88888888",
            "bankName": "VPBank",
            "bankAbbreviation": "VPB",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "8888888888",
            "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        },
    }
    assert signature_of(1727948258788, example, KEY) == (
        "ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7"
        "dde0868fc667faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3"
    )


def test_a_signed_credit_becomes_one_notification() -> None:
    [notice] = adapter.notifications(request(body()), KEY)
    assert (notice.account_no, notice.amount_vnd, notice.bank_tx_id) == (ACCOUNT_NO, 150_000, "FT2611240002")
    assert notice.note.endswith("CT tu 888")
    assert notice.booked_at == NOW
    assert notice.counterparty == Counterparty("NGUYEN VAN A", "8888888888", "970415")


def test_vietnamese_text_is_signed_as_utf8() -> None:
    [notice] = adapter.notifications(request(body(description=f"Thanh toán lệ phí {REF}")), KEY)
    assert notice.note == f"Thanh toán lệ phí {REF}"


def test_another_key_is_a_forgery() -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(body(), key=b"wrong"), KEY)
    assert refused.value.reason == "bad_signature"


def test_a_tampered_body_breaks_the_signature() -> None:
    signed = request(body())
    tampered = json.loads(signed.body)
    tampered["data"]["amount"] = 15_000_000
    with pytest.raises(WebhookRefused, match="does not match"):
        adapter.notifications(WebhookRequest(signed.headers, json.dumps(tampered).encode(), NOW), KEY)


@pytest.mark.parametrize("age", [timedelta(minutes=16), timedelta(minutes=-6)])
def test_a_signature_outside_the_replay_window_is_refused(age: timedelta) -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(body(), signed_at=NOW - age), KEY)
    assert refused.value.reason == "stale"


@pytest.mark.parametrize("value", ["", "v1=abc", "t=abc,v1=abc", "t=1727948258788", "t=" + "9" * 40 + ",v1=ab"])
def test_a_missing_or_malformed_signature_header_is_refused(value: str) -> None:
    signed = request(body())
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(WebhookRequest({"X-Casso-Signature": value}, signed.body, NOW), KEY)
    assert refused.value.reason == "missing_signature"


def test_the_header_name_is_case_insensitive() -> None:
    signed = request(body())
    lowered = {k.lower(): v for k, v in signed.headers.items()}
    assert len(adapter.notifications(WebhookRequest(lowered, signed.body, NOW), KEY)) == 1


@pytest.mark.parametrize("amount", [150_000.5, "150000"])
def test_an_amount_that_is_not_whole_dong_is_refused(amount: Any) -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(body(amount=amount)), KEY)
    assert (refused.value.reason, refused.value.authentic) == ("bad_amount", True)


def test_money_going_out_books_nothing() -> None:
    assert adapter.notifications(request(body(amount=-150_000)), KEY) == []


def test_without_a_bank_reference_cassos_id_identifies_the_transaction() -> None:
    [notice] = adapter.notifications(request(body(reference="")), KEY)
    assert notice.bank_tx_id == "casso-920517"
