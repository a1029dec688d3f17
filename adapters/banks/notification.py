"""What every provider adapter produces, and the checks they share.

An adapter turns one provider's webhook (headers + raw body) into `BankNotification`s,
after verifying the provider's own signature in constant time. It refuses with
`WebhookRefused`, whose ``reason`` is a short stable label (metrics count by it) and
whose ``authentic`` flag tells forged or stale requests (401) from authentic ones that
carry something we cannot book (422).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

from domain.model.errors import DomainError
from domain.model.money import checked_vnd
from domain.model.payments import Counterparty as Counterparty  # re-exported: what adapters name the payer with

# Vietnamese providers print booking times without an offset, in Vietnam's time (UTC+7, no DST).
VIETNAM = timezone(timedelta(hours=7), "ICT")
BODY_MAX_BYTES = 262_144  # a single transfer's notice is ~1 KB; camt.054 uploads of a day fit easily
TX_ID_MAX = 64
NOTE_MAX = 500


class WebhookRefused(Exception):
    """Nothing of this request may be recorded; ``reason`` is a stable metric label."""

    def __init__(self, reason: str, detail: str, *, authentic: bool = False) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.authentic = authentic


@dataclass(frozen=True, slots=True)
class BankNotification:
    """One credit to one of our accounts, normalised from any provider's format."""

    account_no: str
    amount_vnd: int
    bank_tx_id: str
    note: str
    booked_at: datetime
    counterparty: Counterparty


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    headers: Mapping[str, str]  # case-insensitive in practice (aiohttp's CIMultiDictProxy)
    body: bytes
    received_at: datetime


class ProviderAdapter(Protocol):
    def notifications(self, request: WebhookRequest, secret: bytes) -> list[BankNotification]:
        """Verify the request and normalise it; an authentic notice that moves no money in
        (a debit, a failed payment) yields no notification. Raises `WebhookRefused`."""
        ...


def load_json(body: bytes) -> Any:
    """The body as JSON. Non-integers become floats, as in the providers' own (JavaScript)
    signers; an amount is only ever accepted as an ``int`` (`amount_vnd`), so no float
    reaches money."""
    if len(body) > BODY_MAX_BYTES:
        raise WebhookRefused("too_large", f"the body exceeds {BODY_MAX_BYTES} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRefused("malformed", "the body is not JSON") from None


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebhookRefused("malformed", f"{what} must be a JSON object")
    return value


def amount_vnd(value: Any) -> int:
    """A credited amount: a JSON integer of đồng; ``20000.5``, ``"20000"`` or ``true`` are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise WebhookRefused("bad_amount", f"the amount must be an integer of đồng, got {value!r}", authentic=True)
    try:
        return checked_vnd(value)
    except DomainError as exc:
        raise WebhookRefused("bad_amount", str(exc), authentic=True) from None


def js_numbers(value: Any) -> Any:
    """JSON as JavaScript holds it: a whole float is the integer it equals (``2.0`` is ``2``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: js_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [js_numbers(v) for v in value]
    return value


def text(value: Any, what: str, *, required: bool = False, limit: int = NOTE_MAX) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WebhookRefused("malformed", f"{what} must be text", authentic=True)
    result = str(value).strip()
    if required and not result:
        raise WebhookRefused("malformed", f"{what} is missing", authentic=True)
    return result[:limit]


def tx_id(value: Any, what: str) -> str:
    result = text(value, what, required=True, limit=TX_ID_MAX + 1)
    if len(result) > TX_ID_MAX:
        raise WebhookRefused("malformed", f"{what} is longer than {TX_ID_MAX} characters", authentic=True)
    return result


def bank_tx_id(reference: Any, provider_id: Any, provider: str) -> str:
    """The bank's own reference when the provider has it (the one a statement shows, so a
    notice and a statement line of one transfer deduplicate), else the provider's id,
    which is stable for the transaction."""
    own = text(reference, "reference")
    if own:
        return tx_id(own, "reference")
    return tx_id(f"{provider}-{tx_id(provider_id, 'id')}", "id")


def counter_account(data: dict[str, Any]) -> Counterparty:
    """The payer as Casso and payOS (a Casso product) both name it."""
    return Counterparty(
        name=text(data.get("counterAccountName"), "counterAccountName"),
        account_no=text(data.get("counterAccountNumber"), "counterAccountNumber"),
        bank=text(data.get("counterAccountBankId"), "counterAccountBankId"),
    )


def local_time(value: Any, what: str) -> datetime:
    """``2025-12-12 09:00:00`` (Vietnam time) or ISO 8601 with an offset, as aware UTC."""
    raw = text(value, what, required=True)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise WebhookRefused("malformed", f"{what} {raw!r} is not a date and time", authentic=True) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    """How far a signed time may lie from our clock. Notices outside it are refused as
    replays: the duplicate check would stop them moving money anyway, this bounds how
    long a captured request stays worth anything."""

    past: timedelta
    future: timedelta = timedelta(minutes=5)

    def check(self, signed_at: datetime, now: datetime, what: str) -> None:
        if signed_at < now - self.past:
            raise WebhookRefused("stale", f"{what} is older than {self.past} (a replay?)")
        if signed_at > now + self.future:
            raise WebhookRefused("stale", f"{what} lies more than {self.future} in the future")


def header(request: WebhookRequest, name: str) -> str:
    """A header by name, ignoring case even for a plain dict (tests, other servers)."""
    value = request.headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in request.headers.items() if k.lower() == wanted), None)
    return value or ""


def timestamped_signature(request: WebhookRequest, name: str, unit: str) -> tuple[int, str]:
    """The ``t=<unix time>,v1=<hex>`` header (Casso's, and ours for camt.054 pushes)."""
    parts = dict(part.strip().partition("=")[::2] for part in header(request, name).split(",") if "=" in part)
    raw_t, given = parts.get("t", ""), parts.get("v1", "")
    if not (raw_t.isascii() and raw_t.isdigit()) or len(raw_t) > 16 or not given:  # 16 digits: ms until 2286
        raise WebhookRefused("missing_signature", f"{name} must be t=<unix {unit}>,v1=<hex>")
    return int(raw_t), given


def hmac_hex(key: bytes, message: bytes, digest: str) -> str:
    """The HMAC of ``message`` (``digest`` "sha256" or "sha512") in lowercase hex, as providers send it."""
    return hmac.new(key, message, digest).hexdigest()


def same_hex(expected: str, given: str) -> bool:
    """Constant time, so a forger learns nothing from how long a refusal takes."""
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def require_signature(expected: str, given: str, signed: str) -> None:
    """Refuse (``bad_signature``) unless the hex signature ``given`` is ``expected``,
    compared in constant time; ``signed`` names what it covers ("the body")."""
    if not same_hex(expected, given):
        raise WebhookRefused("bad_signature", f"the signature does not match {signed}")


def require_secret(expected: bytes, given: bytes, detail: str) -> None:
    """Refuse (``bad_signature``) unless a secret sent as is (an API key) is ``expected``,
    compared in constant time."""
    if not hmac.compare_digest(expected, given):
        raise WebhookRefused("bad_signature", detail)
