"""ISO 20022 camt.054 (bank-to-customer debit/credit notification) pushed over HTTP.

Banks deliver camt.054 through EBICS, SFTP or a relay; none of these has a standard way
to sign an HTTP push, so a camt.054 connector uses ours, the widespread timestamped
HMAC: header ``X-Citysettle-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256, keyed with the connector's secret, over ``"<t>." + the raw body``. The body
is read with the statement reader (settlement/statements), so amounts are exact (a VND
amount with decimals is refused) and nothing external is loaded.

Every booked, non-reversed credit in VND becomes one notification; a batch entry whose
transactions carry their own amounts becomes one per transaction. camt.054 gives a
booking date, not a time: the notice counts as booked at the start of that day in
Vietnam (the payer is not made late by our not knowing the hour).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from adapters.banks.notification import (
    BODY_MAX_BYTES,
    VIETNAM,
    BankNotification,
    Counterparty,
    ReplayWindow,
    WebhookRefused,
    WebhookRequest,
    hmac_hex,
    require_signature,
    text,
    timestamped_signature,
    tx_id,
)
from settlement.statements import Direction, Entry, StatementError, StatementFormat, TxDetail, read_statement_file

SIGNATURE_HEADER = "X-Citysettle-Signature"
WINDOW = ReplayWindow(past=timedelta(minutes=15))
CURRENCY = "VND"


def signature_of(timestamp_s: int, body: bytes, secret: bytes) -> str:
    return hmac_hex(secret, str(timestamp_s).encode() + b"." + body, "sha256")


def _verify(request: WebhookRequest, secret: bytes) -> None:
    timestamp_s, given = timestamped_signature(request, SIGNATURE_HEADER, "seconds")
    if len(request.body) > BODY_MAX_BYTES:
        raise WebhookRefused("too_large", f"the body exceeds {BODY_MAX_BYTES} bytes")
    expected = signature_of(timestamp_s, request.body, secret)
    require_signature(expected, given, "the body")
    WINDOW.check(datetime.fromtimestamp(timestamp_s, UTC), request.received_at, "the signature time")


class Camt054Adapter:
    def notifications(self, request: WebhookRequest, secret: bytes) -> list[BankNotification]:
        _verify(request, secret)
        try:
            parsed = read_statement_file(io.BytesIO(request.body), StatementFormat.CAMT054)
        except StatementError as exc:
            raise WebhookRefused("malformed", str(exc), authentic=True) from None
        found: list[BankNotification] = []
        for imported in parsed.statements:
            for entry in imported.statement.entries:
                found.extend(_credits(imported.statement.account, entry))
        return found


def _credits(account_no: str, entry: Entry) -> Iterator[BankNotification]:
    if entry.direction is not Direction.CREDIT or entry.reversal or not entry.booked:
        return
    if entry.currency != CURRENCY:
        raise WebhookRefused("bad_amount", f"entry in {entry.currency}: only VND is booked", authentic=True)
    if entry.booking_date is None:
        raise WebhookRefused("malformed", "a booked entry has no booking date", authentic=True)
    booked_at = datetime.combine(entry.booking_date, time(0), VIETNAM).astimezone(UTC)
    itemised = [d for d in entry.details if d.amount_minor is not None]
    if len(itemised) > 1 and sum(d.amount_minor or 0 for d in itemised) == entry.amount_minor:
        for number, detail in enumerate(itemised, start=1):
            yield _notification(
                account_no, detail.amount_minor or 0, _detail_id(entry, detail, number), detail, booked_at
            )
        return
    detail = entry.details[0] if entry.details else TxDetail()
    yield _notification(account_no, entry.amount_minor, _entry_id(entry, detail), detail, booked_at)


def _entry_id(entry: Entry, detail: TxDetail) -> str:
    found = entry.acct_svcr_ref or detail.acct_svcr_ref or detail.tx_id or entry.entry_ref or detail.end_to_end_id
    if not found:
        raise WebhookRefused("malformed", "a credit entry has no bank reference (AcctSvcrRef)", authentic=True)
    return tx_id(found, "AcctSvcrRef")


def _detail_id(entry: Entry, detail: TxDetail, number: int) -> str:
    own = detail.acct_svcr_ref or detail.tx_id or detail.end_to_end_id
    return tx_id(own or f"{_entry_id(entry, TxDetail())}/{number}", "TxDtls reference")


def _notification(
    account_no: str, amount_vnd: int, bank_tx_id: str, detail: TxDetail, booked_at: datetime
) -> BankNotification:
    party = detail.counterparty
    note = " ".join(part for part in (detail.remittance, detail.additional_info or "") if part)
    return BankNotification(
        account_no=account_no,
        amount_vnd=amount_vnd,
        bank_tx_id=bank_tx_id,
        note=text(note, "RmtInf"),
        booked_at=booked_at,
        counterparty=Counterparty(
            name=text(party.name if party else "", "counterparty name"),
            account_no=text(party.account if party else "", "counterparty account"),
        ),
    )
