"""What a settlement batch for a payee's business day may claim: every payable posting
no batch has claimed yet, booked before the day's cut-off.

Earlier days' open postings are included, so nothing booked before the cut-off is ever
left behind: a posting a batch under another cut-off did not reach, a late arrival for
a closed day, and a day whose net was negative (nothing was paid, its postings stay
open and net against the next batch: ``earlier_vnd`` says how much the batch carries
in from before its own day). The figures are read from the `PayablePostings` rows; the
batch that claims them checks that no batch has claimed since (``batches_seen``). For
an operator, the claim also says how much of it is cash its attendants collected and
how much cash they have deposited, so the batch pays only what has reached the bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.ports import ProjectionStore
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.figures import PayableDay
from settlement.payouts.payables import PAYEES_KEY, PayablePostings, PayeeRow, micros, open_key, payee_key


@dataclass(frozen=True, slots=True)
class Claim:
    payee_account: str
    business_date: date
    postings: tuple[str, ...]  # keys of the postings claimed, sorted
    figures: PayableDay  # their sums by category
    earlier_vnd: int  # the net of those booked before the business day itself
    batches_seen: int  # batches of the payee applied to the rows read
    cash_vnd: int = 0  # the part of the net funded from attendants' cash
    deposited_vnd: int = 0  # the operator's cash deposits, all of them
    new_deposits: bool = False  # deposits the payee's last batch did not know of

    @property
    def net_vnd(self) -> int:
        return self.figures.net_vnd


async def read_claim(
    rows: ProjectionStore, payee_account: str, business_date: date, calendar: SettlementCalendar
) -> Claim:
    """The open postings of ``payee_account`` up to the cut-off ending ``business_date``.
    ``rows`` must hold the `PayablePostings` projection caught up with the log."""
    name = PayablePostings.name
    payee = PayeeRow.from_dict((await rows.get_rows(name, [payee_key(payee_account)])).get(payee_key(payee_account)))
    start, end = (micros(at) for at in calendar.window(business_date))
    last_date = calendar.window(business_date)[1].astimezone(VIETNAM_TZ).date().isoformat()
    keys = [open_key(payee_account, d) for d in payee.days if d <= last_date]
    figures, earlier, claimed, cash = PayableDay(), PayableDay(), [], 0
    for day_postings in (await rows.get_rows(name, keys)).values():
        for key, (at_us, category, signed_vnd, cash_vnd) in day_postings.items():
            if at_us >= end:
                continue
            claimed.append(key)
            figures.add(category, signed_vnd)
            cash += cash_vnd
            if at_us < start:
                earlier.add(category, signed_vnd)
    return Claim(
        payee_account,
        business_date,
        tuple(sorted(claimed)),
        figures,
        earlier.net_vnd,
        payee.batches,
        cash_vnd=cash,
        deposited_vnd=payee.deposited_vnd,
        new_deposits=payee.deposited_vnd != payee.deposits_seen_vnd,
    )


async def open_claims(rows: ProjectionStore, business_date: date, calendar: SettlementCalendar) -> list[Claim]:
    """Every payee's claim for the day that has postings in it, or deposits that may
    release withheld cash, by payee account."""
    payees = (await rows.get_rows(PayablePostings.name, [PAYEES_KEY])).get(PAYEES_KEY) or []
    claims = [await read_claim(rows, payee, business_date, calendar) for payee in payees]
    return [claim for claim in claims if claim.postings or claim.new_deposits]
