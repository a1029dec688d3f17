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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.model.ledger import Side, refunds_payable, side_of, suspense
from domain.model.parking.lots import ParkingLot
from domain.model.parking.postings import CASH_KIND
from domain.model.payments import Payment, PaymentPurpose
from domain.ports import ProjectionStore, Rows
from domain.services.postings import LEDGER_EVENTS, ledger_change
from domain.services.projections import FoldsPages
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


class DailyCollections(FoldsPages):
    name = NAME
    handles = (
        Payment.Created,
        Payment.Credited,
        Payment.Paid,
        Payment.Expired,
        Payment.Cancelled,
        ParkingLot.Registered,
        *LEDGER_EVENTS,
    )

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            cls = type(event)
            if cls is Payment.Created:
                rows[f"payment:{event.originator_id}"] = CHANNELS[event.purpose]
            elif cls is Payment.Credited:
                channel = rows.get(f"payment:{event.originator_id}")
                if channel is not None and event.applied_vnd:
                    _collect(rows, local_day(event.timestamp), str(channel), "cashless", 1, event.applied_vnd)
            elif cls is Payment.Paid or cls is Payment.Expired or cls is Payment.Cancelled:
                rows.pop(f"payment:{event.originator_id}", None)
            elif cls is ParkingLot.Registered:
                lots = dict(rows.get(LOTS_KEY) or {})
                lots[str(event.originator_id)] = event.code
                rows[LOTS_KEY] = lots
            else:
                _ledger(event, rows)


_CASH_KINDS = (CASH_KIND, f"reversal:{CASH_KIND}")


def _ledger(event: Any, rows: Rows) -> None:
    change = ledger_change(event, rows)
    if change is None or change[0] is None:
        return
    _, kind, at, entries = change[0]
    day = None
    for entry in entries:
        cash = kind in _CASH_KINDS and entry["side"] == Side.DEBIT.value
        held = entry["account"] in HELD_ACCOUNTS
        if not (cash or held):
            continue
        day = day or local_day(at)
        if cash:
            sign = -1 if kind.startswith("reversal:") else 1
            _collect(rows, day, "parking", "cash", sign, sign * entry["amount_vnd"])
        if held:
            _hold(rows, day, entry["account"], side_of(entry["side"]), entry["amount_vnd"])


def _day(rows: Rows, day: str) -> dict[str, Any]:
    """The day's row, to change and put back (`Rows`): new (and listed) when there is none."""
    row = rows.get(day_key(day))
    if row is None:
        rows[DAYS_KEY] = sorted([*(rows.get(DAYS_KEY) or []), day])
        return empty_day()
    return row  # type: ignore[no-any-return]


def _collect(rows: Rows, day: str, channel: str, method: str, count: int, amount_vnd: int) -> None:
    row = _day(rows, day)
    cell = row["collections"][channel][method]
    cell["count"] += count
    cell["vnd"] += amount_vnd
    rows[day_key(day)] = row


def _hold(rows: Rows, day: str, account: str, side: Side, amount_vnd: int) -> None:
    row = _day(rows, day)
    row["held"][account]["in_vnd" if side is Side.CREDIT else "out_vnd"] += amount_vnd
    rows[day_key(day)] = row
    signed = amount_vnd if side is Side.CREDIT else -amount_vnd
    rows[total_key(account)] = int(rows.get(total_key(account)) or 0) + signed


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
