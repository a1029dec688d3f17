"""Cash the attendants collected and have not yet paid into the bank, per operator and day.

A projection over the ledger's cash movements (`Movement.cash_flows`): per operator, per
Hanoi calendar date, the cash collected (parking fees paid in cash, less cash given
back) and the cash deposited. `cash_not_banked` says, as of a date, which days' cash is
still out: deposits are taken to bank the oldest cash first, so what remains belongs to
the latest days. Finance reads it as the list of days to chase an operator for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.ports import ProjectionStore, ProjectionView
from domain.services.postings import LEDGER_EVENTS, read_ledger_event
from settlement.payouts.calendar import VIETNAM_TZ

OPERATORS_KEY = "operators"


def operator_key(operator_id: str) -> str:
    return f"cash:{operator_id}"


class CashOnHand:
    """Rows: ``operators`` (ids seen) and ``cash:<operator>`` (date -> [collected, deposited])."""

    name = "cash_on_hand"
    handles = LEDGER_EVENTS

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        change = await read_ledger_event(event, view)
        if change is None or change.posted is None:
            return
        local_date = change.posted.at.astimezone(VIETNAM_TZ).date().isoformat()
        for flow in change.posted.cash_flows():
            days = await view.get(operator_key(flow.operator_id))
            if days is None:
                operators = list(await view.get(OPERATORS_KEY) or [])
                view.put(OPERATORS_KEY, sorted([*operators, flow.operator_id]))
                days = {}
            collected, deposited = days.get(local_date, [0, 0])
            days = {**days, local_date: [collected + flow.collected_vnd, deposited + flow.deposited_vnd]}
            view.put(operator_key(flow.operator_id), dict(sorted(days.items())))


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
