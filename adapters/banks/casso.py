"""Casso webhooks, version 2 (developer.casso.vn, "Xử lý sự kiện Webhook").

Body: ``{"error": 0, "data": {"id", "reference", "description", "amount", "runningBalance",
"transactionDateTime", "accountNumber", "bankName", "bankAbbreviation", "virtualAccountNumber",
"virtualAccountName", "counterAccountName", "counterAccountNumber", "counterAccountBankId",
"counterAccountBankName"}}``; ``amount`` is negative for money going out.
Header ``X-Casso-Signature: t=<unix ms>,v1=<hex>``: HMAC-SHA512, keyed with the webhook's
checksum key, over ``"<t>." + the body as canonical JSON`` (keys sorted at every level,
no whitespace, non-ASCII as is). ``t`` is the signing time; requests outside the replay
window are refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.banks.notification import (
    BankNotification,
    ReplayWindow,
    WebhookRequest,
    amount_vnd,
    as_object,
    bank_tx_id,
    counter_account,
    hmac_hex,
    js_numbers,
    load_json,
    local_time,
    require_signature,
    text,
    timestamped_signature,
)

SIGNATURE_HEADER = "X-Casso-Signature"
WINDOW = ReplayWindow(past=timedelta(minutes=15))


def canonical_json(value: Any) -> str:
    return json.dumps(js_numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signature_of(timestamp_ms: int, body: Any, checksum_key: bytes) -> str:
    message = f"{timestamp_ms}.{canonical_json(body)}"
    return hmac_hex(checksum_key, message.encode(), "sha512")


class CassoAdapter:
    def notifications(self, request: WebhookRequest, secret: bytes) -> list[BankNotification]:
        timestamp_ms, given = timestamped_signature(request, SIGNATURE_HEADER, "ms")
        body = load_json(request.body)
        expected = signature_of(timestamp_ms, body, secret)
        require_signature(expected, given, "the body")
        WINDOW.check(datetime.fromtimestamp(timestamp_ms / 1000, UTC), request.received_at, "the signature time")
        envelope = as_object(body, "the webhook")
        if envelope.get("error") not in (0, None):
            return []
        data = as_object(envelope.get("data"), "data")
        amount = data.get("amount")
        if isinstance(amount, int) and not isinstance(amount, bool) and amount <= 0:
            return []  # money going out (or nothing): not a credit to book
        return [
            BankNotification(
                account_no=text(data.get("accountNumber"), "data.accountNumber", required=True),
                amount_vnd=amount_vnd(amount),
                bank_tx_id=bank_tx_id(data.get("reference"), data.get("id"), "casso"),
                note=text(data.get("description"), "data.description"),
                booked_at=local_time(data.get("transactionDateTime"), "data.transactionDateTime"),
                counterparty=counter_account(data),
            )
        ]
