"""Cash the attendants collected and have not yet paid into the bank, per operator and day.

A projection over the ledger's cash movements (`cash_flows_of`): per operator, per
Hanoi calendar date, the cash collected (parking fees paid in cash, less cash given
back) and the cash deposited. `cash_not_banked` says, as of a date, which days' cash is
still out: deposits are taken to bank the oldest cash first, so what remains belongs to
the latest days. Finance reads it as the list of days to chase an operator for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.ports import ProjectionStore, Rows
from domain.services.postings import LEDGER_EVENTS, cash_flows_of, kinds_of, ledger_change
from domain.services.projections import FoldsPages
from settlement.payouts.calendar import VIETNAM_TZ

OPERATORS_KEY = "operators"


def operator_key(operator_id: str) -> str:
    return f"cash:{operator_id}"


class CashOnHand(FoldsPages):
    """Rows: ``operators`` (ids seen) and ``cash:<operator>`` (date -> [collected, deposited])."""

    name = "cash_on_hand"
    handles = LEDGER_EVENTS

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            change = ledger_change(event, rows)
            if change is None or change[0] is None:
                continue
            _, _, at, entries = change[0]
            flows = cash_flows_of(entries, kinds_of(entries))
            if not flows:
                continue
            local_date = at.astimezone(VIETNAM_TZ).date().isoformat()
            for operator_id, collected_vnd, deposited_vnd in flows:
                key = operator_key(operator_id)
                days = rows.get(key)
                if days is None:
                    rows[OPERATORS_KEY] = sorted([*(rows.get(OPERATORS_KEY) or []), operator_id])
                    days = {}
                collected, deposited = days.get(local_date, (0, 0))
                known = local_date in days
                days[local_date] = [collected + collected_vnd, deposited + deposited_vnd]
                # changed in place and put back (`Rows`), its days kept in date order
                rows[key] = days if known else dict(sorted(days.items()))


@dataclass(frozen=True, slots=True)
class CashDay:
    operator_id: str
    day: date
    collected_vnd: int
    not_banked_vnd: int  # of the day's collected cash, what no deposit up to the report's date covers

    def as_dict(self) -> dict[str, Any]:
        return {
            "operator_id": self.operator_id,
            "day": self.day.isoformat(),
            "collected_vnd": self.collected_vnd,
            "not_banked_vnd": self.not_banked_vnd,
        }


async def cash_not_banked(rows: ProjectionStore, through: date) -> list[CashDay]:
    """Each operator's days (up to ``through``) whose cash has not all reached the bank.
    ``rows`` must hold the `CashOnHand` projection caught up with the log."""
    name = CashOnHand.name
    operators = (await rows.get_rows(name, [OPERATORS_KEY])).get(OPERATORS_KEY) or []
    found = await rows.get_rows(name, [operator_key(o) for o in operators])
    report = []
    for operator in operators:
        days = {date.fromisoformat(d): v for d, v in found.get(operator_key(operator), {}).items()}
        days = {d: v for d, v in sorted(days.items()) if d <= through}
        deposited = sum(dep for _, dep in days.values())
        cumulative = 0
        for day, (collected, _) in days.items():
            cumulative += collected
            not_banked = min(collected, cumulative - deposited)
            if not_banked > 0:
                report.append(CashDay(operator, day, collected, not_banked))
    return report
