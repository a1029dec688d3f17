"""The list of reconciliation runs, oldest first, as a projection.

Rows: ``count`` (how many runs were recorded) and ``run:<n>`` (the n-th, from 1, in log
order): its id, when it was recorded, its period and what it found then. A page of the
list is a read of known keys, like `domain.services.ledger_entries`; a run's current
state (its resolutions since) is read from the run itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.ports import JSONValue, ProjectionStore, Rows
from domain.services.projections import FoldsPages
from settlement.reconciliation.runs import ReconciliationRun

NAME = "reconciliation_runs"
COUNT_KEY = "count"


def run_key(number: int) -> str:
    return f"run:{number}"


class RunIndex(FoldsPages):
    name = NAME
    handles = (ReconciliationRun.Recorded,)

    def fold(self, events: Sequence[Any], rows: Rows) -> None:
        for event in events:
            number = int(rows.get(COUNT_KEY) or 0) + 1
            rows[COUNT_KEY] = number
            rows[run_key(number)] = {
                "number": number,
                "id": str(event.originator_id),
                "recorded_at": event.timestamp.isoformat(),
                "first_day": event.first_day,
                "last_day": event.last_day,
                "statements": list(event.statements),
                "reconciled": event.reconciled,
                "exceptions": len(event.exceptions),
            }


async def runs_page(rows: ProjectionStore, after: int, limit: int) -> tuple[list[JSONValue], int | None]:
    """Up to ``limit`` runs numbered above ``after``, and the next page's cursor (None on
    the last page)."""
    count = int((await rows.get_rows(NAME, [COUNT_KEY])).get(COUNT_KEY) or 0)
    last = min(count, after + limit)
    keys = [run_key(n) for n in range(after + 1, last + 1)]
    found = await rows.get_rows(NAME, keys)
    return [found[k] for k in keys if k in found], (last if last < count else None)
