"""``POST /v1/banks/{connector}/notifications``: a bank provider tells us money arrived.

Not signed with RFC 9421 (banks cannot): the connector named in the path says which
provider's own signature the request must carry, and with which secret (after a
rotation, also the replaced one until its grace ends: `BankConnector.secrets_at`). In order:
an unknown connector or a forged, stale or unsigned request → 401 and nothing is
recorded; an authentic request we cannot book (an amount that is not whole đồng, an
account that is no payee's collection account) → 422, nothing recorded, the provider
retries and the failure shows in the metrics; otherwise every credit goes through
`credit_bank_transfer` (deduplicated by the bank's transaction id, matched by the
payment reference found in the note, or held in suspense) and the answer — 200
``{"success": true}``, which PayOS, SePay and Casso all take as delivered — is sent
only after those events are committed. A repeated delivery is answered the same way,
so the provider stops retrying.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec
from aiohttp import web

from adapters.banks.notification import (
    BODY_MAX_BYTES,
    BankNotification,
    ProviderAdapter,
    WebhookRefused,
    WebhookRequest,
)
from adapters.banks.providers import ADAPTERS
from adapters.http.payment_views import CounterpartyAnswer
from adapters.http.problems import PROBLEM_BASE, RETRY_AFTER_S, Problem
from adapters.http.routing import Answer, Call, Reply, Route, roles
from adapters.secrets import SecretUnreadable
from domain.model.bank_connectors import BankConnector, BankProvider
from domain.model.clients import Role
from domain.services.bank_connectors import find_bank_connector
from domain.services.collection_accounts import ProjectionBehind, find_collection_accounts
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import execute

log = logging.getLogger(__name__)
FailureCounter = Callable[[str, str], None]
"""Counts a refused notification: ``(provider, reason)``; ``provider`` is ``unknown``
when the connector is not registered (so an attacker cannot grow the label set)."""
WEBHOOK_FAILURES: web.AppKey[FailureCounter] = web.AppKey("bank_webhook_failures")


class CreditView(Answer):
    bank_tx_id: str
    amount_vnd: int
    outcome: str
    duplicate: bool
    payment_reference: str | None
    counterparty: CounterpartyAnswer | None


class Delivered(Answer):
    """What every provider takes as "delivered"; ``credits`` only for camt.054 uploads."""

    success: bool
    credits: list[CreditView] | msgspec.UnsetType = msgspec.UNSET


def _refuse(call: Call, provider: str, reason: str, status: int, detail: str) -> Problem:
    count = call.request.app.get(WEBHOOK_FAILURES)
    if count is not None:
        count(provider, reason)
    kind = "notification-rejected" if status == 401 else "notification-unbookable"
    headers = None
    if status >= 500:
        kind = "notification-deferred"
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    return Problem(status, "Bank notification refused", detail, f"{PROBLEM_BASE}{kind}", headers=headers, reason=reason)


async def _notices(call: Call, connector: BankConnector, notifications: list[BankNotification]) -> list[BankNotice]:
    """Each notification with the BIN of the collection account it landed on; all are
    resolved before any is credited, so an upload is refused whole or booked whole."""
    provider = connector.provider.value
    services = call.services
    notices = []
    for notification in notifications:
        try:
            owners = await find_collection_accounts(services.store, services.projections, notification.account_no)
        except ProjectionBehind as exc:
            raise _refuse(call, provider, "catching_up", 503, str(exc)) from None
        if len(owners) != 1:
            what = "no payee's collection account" if not owners else "the collection account of several banks"
            reason = "unknown_account" if not owners else "ambiguous_account"
            raise _refuse(call, provider, reason, 422, f"account {notification.account_no} is {what}")
        notices.append(
            BankNotice(
                bank_bin=owners[0].bank_bin,
                account_no=notification.account_no,
                bank_tx_id=notification.bank_tx_id,
                amount_vnd=notification.amount_vnd,
                note=notification.note,
                booked_at=notification.booked_at,
                counterparty=notification.counterparty,
            )
        )
    return notices


def _verified(adapter: ProviderAdapter, webhook: WebhookRequest, secrets: list[bytes]) -> list[BankNotification]:
    """The notifications, under the current secret or, while its grace lasts, the one a
    rotation replaced (only a signature that does not match is tried again)."""
    for secret in secrets[:-1]:
        try:
            return adapter.notifications(webhook, secret)
        except WebhookRefused as exc:
            if exc.reason != "bad_signature":
                raise
    return adapter.notifications(webhook, secrets[-1])


async def notify(call: Call) -> Reply:
    connector = await find_bank_connector(call.services.store, call.param("connector"))
    if connector is None:
        raise _refuse(call, "unknown", "unknown_connector", 401, "no bank connector of that name is registered")
    provider = connector.provider.value
    try:
        secrets = [call.services.sealer.open(sealed.value) for sealed in connector.secrets_at(call.at)]
    except SecretUnreadable as exc:
        log.error("bank connector %s: its secret cannot be opened (%s)", connector.name, exc)
        raise _refuse(call, provider, "secret_unavailable", 503, "the connector is not usable now") from None
    webhook = WebhookRequest(call.request.headers, call.body, call.at)
    try:
        notifications = _verified(ADAPTERS[connector.provider], webhook, secrets)
    except WebhookRefused as exc:
        raise _refuse(call, provider, exc.reason, 422 if exc.authentic else 401, exc.detail) from None
    credits = []
    for notice in await _notices(call, connector, notifications):
        outcome = await execute(call.services.store, credit_bank_transfer(notice, call.at, ON_PAID))
        credits.append(msgspec.convert(outcome.result, CreditView, from_attributes=False))
    if connector.provider is BankProvider.CAMT054:
        return Reply(200, Delivered(success=True, credits=credits))
    return Reply(200, Delivered(success=True))


ROUTES = [
    Route(
        "POST",
        "/v1/banks/{connector}/notifications",
        notify,
        roles(Role.BANK),
        "A bank provider's notification of money received (the provider's own body and signature)",
        response=Delivered,
        signed=False,
        errors=(401, 503),
        raw_body=("application/json", "application/xml"),
        body_max_bytes=BODY_MAX_BYTES,
    ),
]
