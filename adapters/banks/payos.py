"""PayOS payment webhooks (payos.vn, "Webhook" in its API reference).

Body: ``{"code": "00", "desc": "success", "success": true, "data": {...}, "signature": "<hex>"}``.
The signature is HMAC-SHA256, keyed with the payment channel's checksum key, over the
``data`` fields sorted by key and joined as ``k=v&k=v`` — with the values written as the
PayOS SDKs write them (JavaScript's ``String()``: ``null`` → empty, ``true`` → ``true``,
arrays as JSON). The ``data`` fields we book: ``accountNumber`` (our receiving account),
``amount``, ``description`` (the transfer note), ``reference`` (the bank's transaction
reference), ``transactionDateTime`` (Vietnam time), ``counterAccount*`` (the payer);
``code`` other than ``"00"`` is not a completed payment and books nothing. PayOS expects
200 ``{"success": true}`` and retries otherwise.

Registering the webhook URL (payOS's "confirm webhook", from its dashboard or its API)
makes payOS post a test notification, signed with the checksum key like any other, whose
``description`` is one of `CONFIRMATION_DESCRIPTIONS` (its documented sample data: a 2023
booking on account ``12345678``); the URL is accepted only if that is answered 2xx. It is
answered like a notification that books nothing: once its signature is verified, and
without the booking-time or account checks a real credit gets (which it would fail).
Nothing is recorded. A real transfer whose whole note were one of those two texts would
be acknowledged unbooked too; it would not be lost: reconciliation shows it as a bank
line missing in the ledger.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from adapters.banks.notification import (
    BankNotification,
    ReplayWindow,
    WebhookRefused,
    WebhookRequest,
    amount_vnd,
    as_object,
    counter_account,
    hmac_hex,
    js_numbers,
    load_json,
    local_time,
    require_signature,
    text,
    tx_id,
)

SUCCESS_CODE = "00"
# the descriptions of the test notification payOS sends when a webhook URL is registered
CONFIRMATION_DESCRIPTIONS = frozenset({"VQRIO123", "Ma giao dich thu nghiem"})
# PayOS signs no delivery time; the booking time inside the signed data bounds replays
# (its retries of one notice end well within a day).
WINDOW = ReplayWindow(past=timedelta(hours=72))


def js_string(value: Any) -> str:
    """A JSON value as JavaScript's ``String()`` writes it, which is what PayOS signs."""
    if value is None or value in ("null", "undefined"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    value = js_numbers(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(_sorted(value), separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def signature_of(data: dict[str, Any], checksum_key: bytes) -> str:
    message = "&".join(f"{key}={js_string(data[key])}" for key in sorted(data))
    return hmac_hex(checksum_key, message.encode(), "sha256")


class PayOSAdapter:
    def notifications(self, request: WebhookRequest, secret: bytes) -> list[BankNotification]:
        body = as_object(load_json(request.body), "the webhook")
        data = as_object(body.get("data"), "data")
        given = body.get("signature")
        if not isinstance(given, str) or not given:
            raise WebhookRefused("missing_signature", "the webhook has no signature")
        expected = signature_of(data, secret)
        require_signature(expected, given, "the data")
        if text(data.get("code"), "data.code") != SUCCESS_CODE:
            return []  # authentic, but not a completed payment: nothing to book
        if data.get("description") in CONFIRMATION_DESCRIPTIONS:
            return []  # payOS confirming the webhook URL: authentic, and no money (module docstring)
        booked_at = local_time(data.get("transactionDateTime"), "data.transactionDateTime")
        WINDOW.check(booked_at, request.received_at, "the transaction time")
        amount = amount_vnd(data.get("amount"))
        if amount == 0:
            return []
        return [
            BankNotification(
                account_no=text(data.get("accountNumber"), "data.accountNumber", required=True),
                amount_vnd=amount,
                bank_tx_id=tx_id(data.get("reference"), "data.reference"),
                note=text(data.get("description"), "data.description"),
                booked_at=booked_at,
                counterparty=counter_account(data),
            )
        ]
