"""SePay webhooks with API-key authentication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.banks.notification import WebhookRefused, WebhookRequest
from adapters.banks.sepay import SePayAdapter
from tests.support.banks import ACCOUNT_NO, sepay_body, sepay_request

API_KEY = "sepay_live_2b7c1d0e9f8a"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
REF = "CS0G8P5BHV5Z3M7W"
adapter = SePayAdapter()


def request(api_key: str = API_KEY, **overrides: Any) -> WebhookRequest:
    body = {**sepay_body(amount=2_277_000, content=f"{REF} nop le phi", reference="MBVCB.3278907687", at=NOW)}
    body.update(overrides)
    signed = sepay_request(body, api_key)
    return WebhookRequest(signed.headers, signed.body, NOW)


def test_an_authenticated_credit_becomes_one_notification() -> None:
    [notice] = adapter.notifications(request(), API_KEY.encode())
    assert (notice.account_no, notice.amount_vnd, notice.bank_tx_id) == (ACCOUNT_NO, 2_277_000, "MBVCB.3278907687")
    assert notice.note == f"{REF} nop le phi"
    assert notice.booked_at == NOW


def test_another_key_is_a_forgery() -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(api_key="guessed"), API_KEY.encode())
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize("value", ["", f"Bearer {API_KEY}", "Apikey ", API_KEY])
def test_a_missing_or_other_scheme_is_refused(value: str) -> None:
    body = request().body
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(WebhookRequest({"Authorization": value}, body, NOW), API_KEY.encode())
    assert refused.value.reason == "missing_signature"


def test_the_scheme_is_case_insensitive() -> None:
    signed = request()
    headers = {"authorization": f"APIKEY {API_KEY}"}
    assert len(adapter.notifications(WebhookRequest(headers, signed.body, NOW), API_KEY.encode())) == 1


def test_a_stale_transaction_is_refused_as_a_replay() -> None:
    old = (NOW - timedelta(days=3, minutes=1)).astimezone(UTC).isoformat()
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(transactionDate=old), API_KEY.encode())
    assert refused.value.reason == "stale"


@pytest.mark.parametrize("amount", [2_277_000.5, "2277000", None])
def test_an_amount_that_is_not_whole_dong_is_refused(amount: Any) -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request(transferAmount=amount), API_KEY.encode())
    assert (refused.value.reason, refused.value.authentic) == ("bad_amount", True)


def test_money_going_out_books_nothing() -> None:
    assert adapter.notifications(request(transferType="out"), API_KEY.encode()) == []


def test_without_a_bank_reference_sepays_id_identifies_the_transaction() -> None:
    [notice] = adapter.notifications(request(referenceCode=None), API_KEY.encode())
    assert notice.bank_tx_id == "sepay-92704"
