"""What the city collected each day, by channel and by method, and what moved through
suspense and refunds payable: the finance desk's day figures, as a projection.

Days are Hanoi calendar days of the event (as the ledger's postings are dated).

- **Cashless** collections are the bank credits applied to a payment (``applied_vnd`` of
  `Payment.Credited`), by the payment's purpose: fees (``fee_invoice``), parking
  (``parking_session``), tickets (``ticket``) and wallet top-ups (``wallet_topup``).
  Excess and late money is not collected for the purpose: it is in refunds payable or
  suspense. A payment is remembered (``payment:<id>``, its channel) only while it can
  still be credited: until it is paid, expires or is cancelled.
- **Cash** is what parking attendants took (`parking.session.cash` transfers, less their
  reversals). Fees and tickets are not paid in cash here.
- Money paid *from* a wallet (parking, tickets) is not collected again: it was collected
  when the wallet was topped up.
- **Suspense** and **refunds payable**: per day, what came in (credits) and went out
  (debits), from the same postings as the ledger balances (`domain.services.postings`);
  ``total:<account>`` is the balance over every day, so a day's closing balance is the
  total less the days after it.

Rows: ``day:<YYYY-MM-DD>``, ``days`` (sorted dates that have a row), ``total:<account>``,
``lots`` (lot id -> code, for the cashless share per lot), ``payment:<id>``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.ledger import Side, refunds_payable, suspense
from domain.model.parking.lots import ParkingLot
from domain.model.parking.postings import CASH_KIND
from domain.model.payments import Payment, PaymentPurpose
from domain.ports import ProjectionStore, ProjectionView
from domain.services.postings import read_ledger_event
from settlement.payouts.calendar import VIETNAM_TZ

NAME = "finance_collections"
CHANNELS = {
    PaymentPurpose.FEE_INVOICE.value: "fees",
    PaymentPurpose.PARKING_SESSION.value: "parking",
    PaymentPurpose.TICKET.value: "tickets",
    PaymentPurpose.WALLET_TOPUP.value: "wallet_topups",
}
CHANNEL_ORDER = ("fees", "parking", "tickets", "wallet_topups")
METHODS = ("cash", "cashless")
HELD_ACCOUNTS = (suspense(), refunds_payable())  # liabilities: credits add, debits release
DAYS_KEY = "days"
LOTS_KEY = "lots"


def day_key(day: date | str) -> str:
    return f"day:{day}"


def total_key(account: str) -> str:
    return f"total:{account}"


def local_day(at: datetime) -> str:
    return at.astimezone(VIETNAM_TZ).date().isoformat()


def empty_day() -> dict[str, Any]:
    return {
        "collections": {c: {m: {"count": 0, "vnd": 0} for m in METHODS} for c in CHANNEL_ORDER},
        "held": {a: {"in_vnd": 0, "out_vnd": 0} for a in HELD_ACCOUNTS},
    }


class DailyCollections:
    name = NAME

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if isinstance(event, Payment.Created):
            view.put(f"payment:{event.originator_id}", CHANNELS[event.purpose])
        elif isinstance(event, Payment.Credited):
            channel = await view.get(f"payment:{event.originator_id}")
            if channel is not None and event.applied_vnd:
                await _collect(view, local_day(event.timestamp), str(channel), "cashless", 1, event.applied_vnd)
        elif isinstance(event, Payment.Paid | Payment.Expired | Payment.Cancelled):
            view.delete(f"payment:{event.originator_id}")
        elif isinstance(event, ParkingLot.Registered):
            lots = dict(await view.get(LOTS_KEY) or {})
            lots[str(event.originator_id)] = event.code
            view.put(LOTS_KEY, lots)
        else:
            await _ledger(event, view)


async def _ledger(event: DomainEventProtocol[Any], view: ProjectionView) -> None:
    change = await read_ledger_event(event, view)
    if change is None or change.posted is None:
        return
    movement = change.posted
    day = local_day(movement.at)
    for posting in movement.postings:
        if movement.kind in (CASH_KIND, f"reversal:{CASH_KIND}") and posting.side is Side.DEBIT:
            sign = -1 if movement.kind.startswith("reversal:") else 1
            await _collect(view, day, "parking", "cash", sign, sign * posting.amount_vnd)
        if posting.account in HELD_ACCOUNTS:
            await _hold(view, day, posting.account, posting.side, posting.amount_vnd)


async def _day(view: ProjectionView, day: str) -> dict[str, Any]:
    row = await view.get(day_key(day))
    if row is None:
        days = list(await view.get(DAYS_KEY) or [])
        view.put(DAYS_KEY, sorted([*days, day]))
        return empty_day()
    return copy.deepcopy(dict(row))


async def _collect(view: ProjectionView, day: str, channel: str, method: str, count: int, amount_vnd: int) -> None:
    row = await _day(view, day)
    cell = row["collections"][channel][method]
    cell["count"] += count
    cell["vnd"] += amount_vnd
    view.put(day_key(day), row)


async def _hold(view: ProjectionView, day: str, account: str, side: Side, amount_vnd: int) -> None:
    row = await _day(view, day)
    row["held"][account]["in_vnd" if side is Side.CREDIT else "out_vnd"] += amount_vnd
    view.put(day_key(day), row)
    signed = amount_vnd if side is Side.CREDIT else -amount_vnd
    view.put(total_key(account), int(await view.get(total_key(account)) or 0) + signed)


@dataclass(frozen=True, slots=True)
class Held:
    """One liability account on one day: what came in, went out, and its closing balance."""

    account: str
    in_vnd: int
    out_vnd: int
    closing_vnd: int


@dataclass(frozen=True, slots=True)
class CollectionDay:
    day: date
    collections: dict[str, dict[str, dict[str, int]]]  # channel -> method -> {"count", "vnd"}
    held: tuple[Held, ...]

    def method_total(self, method: str) -> int:
        return sum(c[method]["vnd"] for c in self.collections.values())

    def channel_total(self, channel: str) -> int:
        return sum(m["vnd"] for m in self.collections[channel].values())

    @property
    def total_vnd(self) -> int:
        return sum(self.method_total(m) for m in METHODS)

    @property
    def cashless_bps(self) -> int:
        """The cashless share of the day's collections, in basis points (0 when none)."""
        total = self.total_vnd
        return self.method_total("cashless") * 10_000 // total if total else 0


async def collection_days(rows: ProjectionStore, days: Sequence[date]) -> list[CollectionDay]:
    """The figures of each of ``days`` (zeros for a day without any), in the order given."""
    if not days:
        return []
    listed: Any = (await rows.get_rows(NAME, [DAYS_KEY])).get(DAYS_KEY) or []
    later = [str(d) for d in listed if str(d) > min(days).isoformat()]
    wanted = sorted({*later, *(d.isoformat() for d in days)})
    keys = [day_key(d) for d in wanted] + [total_key(a) for a in HELD_ACCOUNTS]
    found: dict[str, Any] = dict(await rows.get_rows(NAME, keys))
    figures = {k.removeprefix("day:"): v for k, v in found.items() if k.startswith("day:")}
    answer = []
    for day in days:
        row = figures.get(day.isoformat()) or empty_day()
        held = []
        for account in HELD_ACCOUNTS:
            after = sum(
                figures[d]["held"][account]["in_vnd"] - figures[d]["held"][account]["out_vnd"]
                for d in later
                if d > day.isoformat()
            )
            moved = row["held"][account]
            closing = int(found.get(total_key(account)) or 0) - after
            held.append(Held(account, moved["in_vnd"], moved["out_vnd"], closing))
        answer.append(CollectionDay(day, row["collections"], tuple(held)))
    return answer


async def known_lots(rows: ProjectionStore) -> dict[str, str]:
    """Every parking lot registered: id -> code."""
    lots: Any = (await rows.get_rows(NAME, [LOTS_KEY])).get(LOTS_KEY) or {}
    return dict(lots)
