"""camt.054 notifications pushed with our timestamped HMAC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.banks.camt054 import Camt054Adapter
from adapters.banks.notification import WebhookRefused, WebhookRequest
from tests.support.banks import ACCOUNT_NO, CamtCredit, camt054, camt054_request

KEY = b"camt-relay-secret"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
DAY = date(2026, 11, 24)
REF = "CS0G8P5BHV5Z3M7W"
adapter = Camt054Adapter()


def request(credits: list[CamtCredit], *, key: bytes = KEY, signed_at: datetime = NOW) -> WebhookRequest:
    signed = camt054_request(camt054(credits, booked=DAY), key, signed_at)
    return WebhookRequest(signed.headers, signed.body, NOW)


def test_each_booked_credit_becomes_a_notification() -> None:
    credits = [
        CamtCredit("200000", "FT-1", f"LE PHI {REF}"),
        CamtCredit("50000", "FT-2", "no reference"),
        CamtCredit("10000", "FT-3", "bank fee", direction="DBIT"),
    ]
    notices = adapter.notifications(request(credits), KEY)
    assert [(n.account_no, n.amount_vnd, n.bank_tx_id) for n in notices] == [
        (ACCOUNT_NO, 200_000, "FT-1"),
        (ACCOUNT_NO, 50_000, "FT-2"),
    ]
    assert notices[0].note == f"LE PHI {REF}"
    assert notices[0].counterparty.name == "NGUYEN VAN A"
    # the booking date's start in Vietnam
    assert notices[0].booked_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_another_key_is_a_forgery() -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request([CamtCredit("1", "FT-1", "")], key=b"wrong"), KEY)
    assert refused.value.reason == "bad_signature"


def test_a_tampered_document_breaks_the_signature() -> None:
    signed = request([CamtCredit("200000", "FT-1", REF)])
    tampered = signed.body.replace(b">200000<", b">900000<")
    with pytest.raises(WebhookRefused, match="does not match"):
        adapter.notifications(WebhookRequest(signed.headers, tampered, NOW), KEY)


def test_a_stale_signature_is_refused() -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request([CamtCredit("1", "FT-1", "")], signed_at=NOW - timedelta(hours=1)), KEY)
    assert refused.value.reason == "stale"


def test_a_vnd_amount_with_decimals_is_refused() -> None:
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(request([CamtCredit("200000.50", "FT-1", REF)]), KEY)
    assert (refused.value.reason, refused.value.authentic) == ("malformed", True)


def test_a_credit_without_a_bank_reference_cannot_be_deduplicated() -> None:
    with pytest.raises(WebhookRefused, match="no bank reference"):
        adapter.notifications(request([CamtCredit("200000", None, REF)]), KEY)


def test_a_document_that_is_not_camt054_is_refused() -> None:
    signed = camt054_request(b"<Document/>", KEY, NOW)
    with pytest.raises(WebhookRefused) as refused:
        adapter.notifications(WebhookRequest(signed.headers, signed.body, NOW), KEY)
    assert refused.value.authentic
