"""What moved through our bank accounts, by account number and the bank's business day.

The ledger side of a reconciliation (`settlement.reconciliation.ledger_side.LedgerSide`) read from a
projection rather than from the whole log, so that reconciling a day reads that day
whatever the length of the history. `read_bank_movements` gives what
`settlement.reconciliation.ledger_side.read_ledger_side` gives from the log, item for item and balance
for balance (tested on both stores), except ``payout_batches``, which holds only the
EndToEndIds of the period's items: the only ones a run looks up.

Rows (JSON; every row stays bounded by a day, a month or an account):

- ``credit:<BankCredit id>``: ``[bank day, payment reference, bank transaction id]``, from
  `BankCredit.Received`; ``batch:<id>`` the EndToEndId of a `SettlementBatch.Closed`;
  ``deposit:<id>`` the slip number of a `CashDeposit.Recorded`; ``value_date:<cause>``
  the day a resolution's transfer is booked on; ``payout:<EndToEndId>`` its batch.
  These are the details an item takes from the event that caused its transfer: each is
  written in the same unit of work as that transfer and before it (the unit of work
  appends the aggregate it saw first first), so it is there when the posting arrives;
- ``resolved``: every resolution's description by case key (grows with finance's
  decisions, not with the traffic);
- ``registered``: the collection accounts registered for payees, by number;
- ``account:<number>``: our clearing account of that number (the last posted), the
  log position of the last transfer that moved it, and its net movement by month;
- ``month:<number>:<yyyy-mm>``: by day, ``[net movement, items]``;
- ``items:<number>:<day>:<k>``: the day's items, `CHUNK` to a row, in log order
  (``[position, transfer id, entry index, account, CRDT|DBIT, amount, day, reference,
  bank transaction id, EndToEndId, resolves]``).

Days are the bank's (Vietnam, UTC+7), as `read_ledger_side` takes them by default.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.cash_deposits import CashDeposit
from domain.model.ledger import AccountKind, account_kind, bank_clearing
from domain.model.payees import Payee
from domain.model.payments import BankCredit
from domain.model.transfers import Transfer
from domain.ports import ProjectionStore, ProjectionView
from domain.services.projections import ProjectionRunner
from settlement.payouts.batches import SettlementBatch
from settlement.reconciliation.ledger_items import LedgerBalance, LedgerItem, account_number
from settlement.reconciliation.ledger_side import (
    BANK_TZ,
    LEDGER_CURRENCY,
    LEDGER_SIDE_EVENTS,
    LedgerSide,
    resolution_description,
)
from settlement.reconciliation.runs import ReconciliationRun
from settlement.statements.model import Direction

CHUNK = 1_000  # items a row: a page's commit rewrites at most one such row of a day's items
CATCH_UP_PAGE = 5_000  # events a transaction when a reconciliation brings the rows up to date
RESOLVED_KEY = "resolved"
REGISTERED_KEY = "registered"
NUMBERS_KEY = "numbers"


class BankMovements:
    """The projection; see the module docstring for its rows."""

    name = "bank_movements"
    handles = LEDGER_SIDE_EVENTS

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        raise TypeError("BankMovements needs each event's log position: runners call apply_at")

    async def apply_at(self, event: DomainEventProtocol[Any], view: ProjectionView, position: int) -> None:
        if isinstance(event, Transfer.Posted):
            await _posted(event, view, position)
        elif isinstance(event, BankCredit.Received):
            day = event.booked_at.astimezone(BANK_TZ).date().isoformat()
            view.put(f"credit:{event.originator_id}", [day, event.payment_reference, event.bank_tx_id])
        elif isinstance(event, SettlementBatch.Closed):
            view.put(f"batch:{event.originator_id}", event.end_to_end_id)
            view.put(f"payout:{event.end_to_end_id}", str(event.originator_id))
        elif isinstance(event, ReconciliationRun.ExceptionResolved):
            if event.transfer_cause is not None and event.value_date:
                view.put(f"value_date:{event.transfer_cause}", event.value_date)
            if event.case_key is not None:
                resolved = dict(await view.get(RESOLVED_KEY) or {})
                resolved[event.case_key] = resolution_description(event)
                view.put(RESOLVED_KEY, resolved)
        elif isinstance(event, Payee.Registered | Payee.Changed):
            if event.collection_account:
                account = bank_clearing(event.collection_account["bank_bin"], event.collection_account["account_no"])
                registered = dict(await view.get(REGISTERED_KEY) or {})
                registered[account_number(account)] = account
                view.put(REGISTERED_KEY, registered)
        elif isinstance(event, CashDeposit.Recorded):
            view.put(f"deposit:{event.originator_id}", event.slip_no)


async def _posted(event: Transfer.Posted, view: ProjectionView, position: int) -> None:
    details: list[Any] | None = None
    for index, entry in enumerate(event.entries):
        account = entry["account"]
        if account_kind(account) is not AccountKind.BANK_CLEARING:
            continue
        if details is None:
            details = await _details(event, view)
        day, reference, bank_tx_id, end_to_end_id, resolves = details
        # A debit of our clearing account is money arriving at the bank.
        direction = Direction.CREDIT if entry["side"] == "debit" else Direction.DEBIT
        amount = entry["amount_vnd"]
        signed = amount if direction is Direction.CREDIT else -amount
        number = account_number(account)
        item = [position, str(event.originator_id), index, account, direction.value, amount, day]
        await _file(
            view, number, account, day, signed, [*item, reference, bank_tx_id, end_to_end_id, resolves], position
        )


async def _details(event: Transfer.Posted, view: ProjectionView) -> list[Any]:
    """``[bank day, reference, bank transaction id, EndToEndId, resolves]`` of the transfer's items."""
    cause = event.cause
    kind, _, rest = cause.partition(":")
    source = rest.split(":", 1)[0]
    day = event.timestamp.astimezone(BANK_TZ).date().isoformat()
    reference = bank_tx_id = end_to_end_id = None
    if kind == "bank-credit":
        credit = await view.get(f"credit:{source}")
        if isinstance(credit, list):
            day, reference, bank_tx_id = credit
    elif kind == "settlement":
        end_to_end_id = await view.get(f"batch:{source}")
    elif kind == "cash-deposit":
        reference = await view.get(f"deposit:{source}")
    value_date = await view.get(f"value_date:{cause}")
    if value_date is not None:
        return [value_date, reference, bank_tx_id, end_to_end_id, cause]
    return [day, reference, bank_tx_id, end_to_end_id, None]


async def _file(
    view: ProjectionView, number: str, account: str, day: str, signed: int, item: list[Any], position: int
) -> None:
    key = f"account:{number}"
    found = await view.get(key)
    if found is None:
        numbers = list(await view.get(NUMBERS_KEY) or [])
        view.put(NUMBERS_KEY, sorted([*numbers, number]))
        found = {"account": account, "last": position, "months": {}}
    month = day[:7]
    months = dict(found["months"])
    months[month] = months.get(month, 0) + signed
    view.put(key, {"account": account, "last": position, "months": dict(sorted(months.items()))})
    month_key = f"month:{number}:{month}"
    days = dict(await view.get(month_key) or {})
    net, count = days.get(day, [0, 0])
    days[day] = [net + signed, count + 1]
    view.put(month_key, dict(sorted(days.items())))
    chunk_key = f"items:{number}:{day}:{count // CHUNK}"
    items = list(await view.get(chunk_key) or []) if count % CHUNK else []
    view.put(chunk_key, [*items, item])


async def read_bank_movements(
    rows: ProjectionStore, *, first_day: date, last_day: date, accounts: Collection[str] | None = None
) -> LedgerSide:
    """The ledger side of ``first_day`` to ``last_day`` (inclusive) on the accounts with
    these numbers (all when None), from the `BankMovements` rows; the projection must
    have caught up with the log (`settlement.reconciliation.ledger_side.read_ledger_side` is the same
    read from the log itself)."""
    name = BankMovements.name
    head = await rows.get_rows(name, [NUMBERS_KEY, REGISTERED_KEY, RESOLVED_KEY])
    posted = head.get(NUMBERS_KEY) or []
    wanted = {account_number(a) for a in accounts} if accounts is not None else None
    numbers = [n for n in posted if wanted is None or n in wanted]
    found = await rows.get_rows(name, [f"account:{n}" for n in numbers])
    first, last = first_day.isoformat(), last_day.isoformat()
    months = _months(first_day, last_day)
    month_rows = await rows.get_rows(name, [f"month:{n}:{m}" for n in numbers for m in months])
    opening: dict[str, int] = {}
    movement: dict[str, int] = {}
    chunk_keys: list[str] = []
    for number in numbers:
        by_month = found[f"account:{number}"]["months"]
        opening[number] = sum(net for month, net in by_month.items() if month < months[0])
        movement[number] = 0
        for month in months:
            for day, (net, count) in (month_rows.get(f"month:{number}:{month}") or {}).items():
                if day < first:
                    opening[number] += net
                elif day <= last:
                    movement[number] += net
                    chunk_keys.extend(f"items:{number}:{day}:{k}" for k in range((count + CHUNK - 1) // CHUNK))
    chunks = await rows.get_rows(name, chunk_keys)
    rows_of_items = sorted((tuple(i) for key in chunk_keys for i in chunks[key]), key=lambda i: (i[0], i[2]))
    items = tuple(_item(row) for row in rows_of_items)
    balances = {n: LedgerBalance(n, LEDGER_CURRENCY, opening[n], opening[n] + movement[n]) for n in sorted(numbers)}
    registered: dict[str, str] = head.get(REGISTERED_KEY) or {}
    ledger_accounts = {
        **{n: a for n, a in registered.items() if wanted is None or n in wanted},
        **{n: found[f"account:{n}"]["account"] for n in numbers},
    }
    last_position = max((found[f"account:{n}"]["last"] for n in numbers), default=0)
    e2e = sorted({i.end_to_end_id for i in items if i.end_to_end_id is not None})
    payouts = await rows.get_rows(name, [f"payout:{e}" for e in e2e])
    payout_batches = {e: payouts[f"payout:{e}"] for e in e2e if f"payout:{e}" in payouts}
    resolved: dict[str, str] = head.get(RESOLVED_KEY) or {}
    return LedgerSide(items, balances, ledger_accounts, last_position, payout_batches, dict(resolved))


def _months(first: date, last: date) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _item(row: tuple[Any, ...]) -> LedgerItem:
    _, transfer_id, index, account, direction, amount, day, reference, bank_tx_id, end_to_end_id, resolves = row
    return LedgerItem(
        item_id=f"{transfer_id}/{index}",
        account=account,
        direction=Direction(direction),
        amount_minor=amount,
        currency=LEDGER_CURRENCY,
        booking_date=date.fromisoformat(day),
        payment_reference=reference,
        bank_tx_id=bank_tx_id,
        end_to_end_id=end_to_end_id,
        resolves=resolves,
    )


READ_ATTEMPTS = 5


async def read_day_side(
    store: Any, *, first_day: date, last_day: date, accounts: Collection[str] | None = None
) -> LedgerSide:
    """`read_bank_movements` after bringing the projection up to the log's head (only what
    was appended since it last moved is read). Its rows are read again when a runner
    elsewhere (the service's) moved them meanwhile, so that all of them are of one position."""
    runner = ProjectionRunner(store, store, BankMovements(), page_size=CATCH_UP_PAGE)
    for _ in range(READ_ATTEMPTS):
        await runner.catch_up()
        position = await store.tracking_position(BankMovements.name)
        side = await read_bank_movements(store, first_day=first_day, last_day=last_day, accounts=accounts)
        if await store.tracking_position(BankMovements.name) == position:
            return side
    raise RuntimeError("the bank movements projection kept moving while it was read; try again")
