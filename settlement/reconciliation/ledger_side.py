"""The ledger side of a reconciliation, read from the event log.

Every entry of a posted `Transfer` on a bank-clearing account (``bank:<bin>:<number>``)
is one `LedgerItem`: a debit of the clearing account is money in (CRDT on the bank's
statement), a credit is money out. Its details come from the events that caused it:

- ``bank-credit:<id>`` transfers: the `BankCredit.Received` with that id gives the
  bank's transaction id, the payment reference and the bank's booking time;
- ``settlement:<batch id>[:returned]`` transfers: the `SettlementBatch.Closed` gives
  the payout's EndToEndId, which the bank's debit (and a return) carries back;
- ``cash-deposit:<id>`` transfers: the `CashDeposit.Recorded` gives the deposit slip
  number, which the bank's credit carries as its reference;
- ``reconciliation:<case key>`` transfers: the `ReconciliationRun.ExceptionResolved`
  that booked them gives their value date (the exception's day, not the day of the
  decision) and the case they resolve, which the matching sets aside for that case.

Our accounts by number (what a statement calls them) come from the postings and from
the collection accounts registered for payees (`Payee`), so an account nothing has been
booked on yet is still known as ours. Every resolution recorded is returned too (also
those that booked nothing), so a later run can show its case as resolved. The log is
read in pages (bounded memory per read) and only events of those kinds are decoded.
Dates are taken in the bank's time zone (Vietnam: UTC+7, no DST).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.model.cash_deposits import CashDeposit
from domain.model.ledger import AccountKind, account_kind, bank_clearing
from domain.model.payees import Payee
from domain.model.payments import BankCredit
from domain.model.transfers import Transfer
from domain.ports import LogRecord
from settlement.payouts.batches import SettlementBatch
from settlement.reconciliation.ledger_items import LedgerBalance, LedgerItem, account_number
from settlement.reconciliation.runs import ReconciliationRun
from settlement.statements.model import Direction

BANK_TZ = timezone(timedelta(hours=7), "ICT")
PAGE_SIZE = 5_000
LEDGER_CURRENCY = "VND"
LEDGER_SIDE_EVENTS = (  # what the ledger side is made of (also `settlement.reconciliation.bank_movements`)
    Transfer.Posted,
    BankCredit.Received,
    SettlementBatch.Closed,
    ReconciliationRun.ExceptionResolved,
    Payee.Registered,
    Payee.Changed,
    CashDeposit.Recorded,
)
_TOPICS = frozenset(get_topic(t) for t in LEDGER_SIDE_EVENTS)


class LogReader(Protocol):
    """The part of the `EventStore` port this module needs."""

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]: ...

    def decode(self, record: LogRecord) -> Any: ...


@dataclass(frozen=True, slots=True)
class LedgerSide:
    items: tuple[LedgerItem, ...]
    balances: dict[str, LedgerBalance]  # by account number, as statements name accounts
    ledger_accounts: dict[str, str]  # account number -> our ``bank:<bin>:<number>`` account
    last_position: int  # the last log position that moved one of these accounts
    payout_batches: dict[str, str]  # EndToEndId of a settlement payout -> its batch id
    resolved: dict[str, str] = field(default_factory=dict)  # case key -> how and when it was resolved


@dataclass(frozen=True, slots=True)
class _Posting:
    transfer_id: UUID
    index: int
    account: str
    direction: Direction
    amount_vnd: int
    at: datetime
    cause: str


@dataclass
class _Log:
    postings: list[_Posting]
    credits: dict[str, Any]  # BankCredit id -> its Received event
    batches: dict[str, str]  # SettlementBatch id -> EndToEndId of its payout
    resolved: dict[str, str] = field(default_factory=dict)  # case key -> description
    value_dates: dict[str, date] = field(default_factory=dict)  # resolution transfer cause -> value date
    registered: dict[str, str] = field(default_factory=dict)  # collection account number -> clearing account
    deposits: dict[str, str] = field(default_factory=dict)  # CashDeposit id -> its slip number
    last_position: int = 0


async def read_ledger_side(
    store: LogReader,
    *,
    first_day: date,
    last_day: date,
    accounts: Collection[str] | None = None,
    tz: timezone = BANK_TZ,
    page_size: int = PAGE_SIZE,
) -> LedgerSide:
    """Items booked from ``first_day`` to ``last_day`` (inclusive) on the bank-clearing
    accounts with these numbers (all when None), and each account's balance before and after."""
    wanted = {account_number(a) for a in accounts} if accounts is not None else None
    log = await _read(store, wanted, page_size)
    items: list[LedgerItem] = []
    opening: dict[str, int] = {}
    movement: dict[str, int] = {}
    for posting in log.postings:
        number = account_number(posting.account)
        item = _item(posting, log, tz)
        signed = item.signed_minor
        opening.setdefault(number, 0)
        movement.setdefault(number, 0)
        if item.booking_date < first_day:
            opening[number] += signed
        elif item.booking_date <= last_day:
            movement[number] += signed
            items.append(item)
    balances = {n: LedgerBalance(n, LEDGER_CURRENCY, opening[n], opening[n] + movement[n]) for n in sorted(opening)}
    ledger_accounts = {**log.registered, **{account_number(p.account): p.account for p in log.postings}}
    payouts = {e2e: batch for batch, e2e in log.batches.items()}
    return LedgerSide(tuple(items), balances, ledger_accounts, log.last_position, payouts, log.resolved)


_PAYEE_TOPICS = frozenset(get_topic(t) for t in (Payee.Registered, Payee.Changed))


async def registered_accounts(store: LogReader, page_size: int = PAGE_SIZE) -> dict[str, str]:
    """The collection accounts registered for payees, by number: ``{number: bank:<bin>:<number>}``."""
    log = _Log([], {}, {})
    position = 0
    while records := await store.read_log(position, page_size):
        position = records[-1].position
        for record in records:
            if record.topic in _PAYEE_TOPICS:
                _registered(store.decode(record), None, log)
    return log.registered


def _registered(event: Any, wanted: set[str] | None, log: _Log) -> None:
    if event.collection_account:
        account = bank_clearing(event.collection_account["bank_bin"], event.collection_account["account_no"])
        if wanted is None or account_number(account) in wanted:
            log.registered[account_number(account)] = account


async def _read(store: LogReader, wanted: set[str] | None, page_size: int) -> _Log:
    log = _Log([], {}, {})
    position = 0
    while records := await store.read_log(position, page_size):
        position = records[-1].position
        for record in records:
            if record.topic not in _TOPICS:
                continue
            event = store.decode(record)
            if isinstance(event, BankCredit.Received):
                log.credits[str(event.originator_id)] = event
            elif isinstance(event, SettlementBatch.Closed):
                log.batches[str(event.originator_id)] = event.end_to_end_id
            elif isinstance(event, ReconciliationRun.ExceptionResolved):
                _resolution(event, log)
            elif isinstance(event, Payee.Registered | Payee.Changed):
                _registered(event, wanted, log)
            elif isinstance(event, CashDeposit.Recorded):
                log.deposits[str(event.originator_id)] = event.slip_no
            elif isinstance(event, Transfer.Posted):
                postings = _postings(event, wanted)
                if postings:
                    log.postings.extend(postings)
                    log.last_position = record.position
    return log


def _resolution(event: ReconciliationRun.ExceptionResolved, log: _Log) -> None:
    value_date = date.fromisoformat(event.value_date) if event.value_date else None
    if event.transfer_cause is not None and value_date is not None:
        log.value_dates[event.transfer_cause] = value_date
    if event.case_key is not None:
        log.resolved[event.case_key] = resolution_description(event)


def resolution_description(event: ReconciliationRun.ExceptionResolved) -> str:
    """How a case was resolved, as a later run shows it."""
    value_date = date.fromisoformat(event.value_date) if event.value_date else None
    booked = f", booked on {value_date}" if value_date and event.transfer_cause else ""
    return (
        f"{event.resolution} by {event.resolved_by} at {event.timestamp:%Y-%m-%d %H:%M} UTC{booked} "
        f"(run {event.originator_id} case {event.case}): {event.reason}"
    )


def _postings(event: Transfer.Posted, wanted: set[str] | None) -> list[_Posting]:
    found = []
    for index, entry in enumerate(event.entries):
        account = entry["account"]
        if account_kind(account) is not AccountKind.BANK_CLEARING:
            continue
        if wanted is not None and account_number(account) not in wanted:
            continue
        # A debit of our clearing account is money arriving at the bank.
        direction = Direction.CREDIT if entry["side"] == "debit" else Direction.DEBIT
        found.append(
            _Posting(event.originator_id, index, account, direction, entry["amount_vnd"], event.timestamp, event.cause)
        )
    return found


def _item(posting: _Posting, log: _Log, tz: timezone) -> LedgerItem:
    kind, _, rest = posting.cause.partition(":")
    source_id = rest.split(":", 1)[0]
    booked_at = posting.at
    reference = bank_tx_id = end_to_end_id = None
    if kind == "bank-credit" and source_id in log.credits:
        received = log.credits[source_id]
        booked_at = received.booked_at
        reference, bank_tx_id = received.payment_reference, received.bank_tx_id
    elif kind == "settlement" and source_id in log.batches:
        end_to_end_id = log.batches[source_id]
    elif kind == "cash-deposit" and source_id in log.deposits:
        reference = log.deposits[source_id]
    resolves = posting.cause if posting.cause in log.value_dates else None
    return LedgerItem(
        item_id=f"{posting.transfer_id}/{posting.index}",
        account=posting.account,
        direction=posting.direction,
        amount_minor=posting.amount_vnd,
        currency=LEDGER_CURRENCY,
        booking_date=log.value_dates[posting.cause] if resolves else booked_at.astimezone(tz).date(),
        payment_reference=reference,
        bank_tx_id=bank_tx_id,
        end_to_end_id=end_to_end_id,
        resolves=resolves,
    )
