"""SePay webhooks (developer.sepay.vn, "SePay Webhooks" → "Integrate webhook", "Authentication").

Body: ``{"id", "gateway", "transactionDate": "2023-03-25 14:02:37", "accountNumber", "code",
"content", "transferType": "in"|"out", "transferAmount", "accumulated", "subAccount",
"referenceCode", "description"}``. Authentication "API Key": header
``Authorization: Apikey <key>``, the key being the connector's secret; it is compared in
constant time. SePay signs no delivery time, so the booking time bounds replays. SePay
expects 200/201 with ``{"success": true}`` and retries otherwise.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.banks.notification import (
    BankNotification,
    Counterparty,
    ReplayWindow,
    WebhookRefused,
    WebhookRequest,
    amount_vnd,
    as_object,
    bank_tx_id,
    header,
    load_json,
    local_time,
    require_secret,
    text,
)

SCHEME = "apikey"
WINDOW = ReplayWindow(past=timedelta(hours=72))


def _given_key(request: WebhookRequest) -> bytes:
    scheme, _, key = header(request, "Authorization").strip().partition(" ")
    if scheme.lower() != SCHEME or not key.strip():
        raise WebhookRefused("missing_signature", "expected the header Authorization: Apikey <key>")
    return key.strip().encode()


class SePayAdapter:
    def notifications(self, request: WebhookRequest, secret: bytes) -> list[BankNotification]:
        require_secret(secret, _given_key(request), "the API key is not this connector's")
        data = as_object(load_json(request.body), "the webhook")
        if text(data.get("transferType"), "transferType") != "in":
            return []  # money going out: nothing to credit
        booked_at = local_time(data.get("transactionDate"), "transactionDate")
        WINDOW.check(booked_at, request.received_at, "the transaction time")
        amount = amount_vnd(data.get("transferAmount"))
        if amount == 0:
            return []
        return [
            BankNotification(
                account_no=text(data.get("accountNumber"), "accountNumber", required=True),
                amount_vnd=amount,
                bank_tx_id=bank_tx_id(data.get("referenceCode"), data.get("id"), "sepay"),
                note=text(data.get("content"), "content") or text(data.get("description"), "description"),
                booked_at=booked_at,
                counterparty=Counterparty(),  # SePay names only our bank (gateway), not the payer
            )
        ]
