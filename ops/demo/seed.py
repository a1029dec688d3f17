"""The demo day from start to end, into an empty store, and what it made.

In order: the evening before, the city registers its payees, the ward counter's fee
catalogue, the parking lots and their gates, the API clients and the bank connector.
Then the day: the counter's invoices and their payments, transfers nobody can match,
bus tickets and rides, parking stays and pre-bookings (concurrent flows, see `flows`),
and the attendants' cash taken to the bank. The next morning finance reconciles the
day's camt.053 statement (`settlement.reconciliation.statement_runs`, as ``POST /v1/settlement/statements``
does) and closes the day's settlement (`settlement.payouts.day_close`, as ``POST
/v1/settlement/batches`` does), whose pain.001 instructions the demo writes out. Last,
every projection is brought up to the log's head, so the store is ready to serve and
``audit replay`` finds the live projections equal to a rebuild.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.secrets import SecretSealer
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork, execute
from ops.demo import catalogue, parking, people, traffic
from ops.demo.bank import Bank, write_camt053
from ops.demo.day import DemoDay
from ops.demo.flows import Flow, Flows
from ops.projections import projections
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.day_close import batch_file, close_day
from settlement.reconciliation.outcomes import MatchOptions
from settlement.reconciliation.runs import ReconciliationRun
from settlement.reconciliation.statement_runs import reconcile_statements
from settlement.statements import read_statement_file

CLOSED_BY = "ketoan.demo"


@dataclass(frozen=True, slots=True)
class Seeded:
    summary: dict[str, Any]
    statement: Path
    payout_files: dict[str, Path]


async def seed(store: Any, day: DemoDay, out: Path, sealer: SecretSealer) -> Seeded:
    """Fill ``store`` (empty: the caller checked) with the demo day; files go under ``out``."""
    keys = out / "keys"
    people.write_key_files(day, keys)
    bank = Bank(day.day)
    flows = Flows(store, day, bank)
    await flows.run_in_order(
        [
            *catalogue.payee_use_cases(day),
            *catalogue.catalogue_use_cases(day),
            *catalogue.ticket_product_use_cases(day),
            *parking.lot_use_cases(day),
            people.bank_connector_use_case(day, sealer),
        ]
    )
    clients = {}
    for client, use_case in zip(people.CLIENTS, people.client_use_cases(day), strict=True):
        registered = await flows.run(use_case)
        key = people.key_file(keys, client)
        clients[client.client_id] = {"role": client.role.value, "key_id": registered["key_id"], "key_file": str(key)}
    day_flows: list[Flow] = [
        *traffic.invoice_flows(flows),
        *traffic.unmatched_flows(flows),
        *traffic.ticket_flows(flows),
        *parking.session_flows(flows),
    ]
    steps = parking.reservation_steps(flows, first=len(day_flows))

    async def bookings() -> None:  # one lot's spaces: in time order
        for _, _, step in steps:
            await step()

    await flows.run_all([bookings, *day_flows])
    await parking.bank_the_cash(flows)

    accounts = sorted({b.account_no for b in bank.bookings})
    content = write_camt053(bank, accounts, day.next_morning)
    statement = out / f"statement-{day.day.isoformat()}.camt053.xml"
    statement.write_bytes(content)
    recorded = await _reconcile(store, content, day)
    closed = (
        await execute(
            store,
            close_day(
                store,
                store,
                business_date=day.day,
                calendar=SettlementCalendar(),
                paying_account=catalogue.PAYING_ACCOUNT,
                closed_by=CLOSED_BY,
                at=day.next_morning.replace(hour=8),
            ),
        )
    ).result
    payout_files = await _write_payout_files(store, closed, out / "settlement")
    for projection in projections():
        await ProjectionRunner(store, store, projection).catch_up()
    summary = await _summary(store, day, flows, recorded, closed, statement, payout_files)
    summary["clients"] = clients
    return Seeded(summary, statement, payout_files)


async def _reconcile(store: Any, content: bytes, day: DemoDay) -> dict[str, Any]:
    statement = read_statement_file(io.BytesIO(content))
    use_case = reconcile_statements(store, [statement], day=day.day, options=MatchOptions(), at=day.next_morning)
    return (await execute(store, use_case)).result


async def _write_payout_files(store: Any, closed: dict[str, Any], folder: Path) -> dict[str, Path]:
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    written = {}
    for batch in closed["batches"]:
        document, _ = await batch_file(UnitOfWork(store), UUID(batch["id"]))
        payee = batch["payee_account"].split(":", 2)[-1]
        path = folder / f"pain001-{payee}.xml"
        path.write_bytes(document)
        written[batch["id"]] = path
    return written


async def _summary(
    store: Any,
    day: DemoDay,
    flows: Flows,
    recorded: dict[str, Any],
    closed: dict[str, Any],
    statement: Path,
    payout_files: dict[str, Path],
) -> dict[str, Any]:
    run = await UnitOfWork(store).get(ReconciliationRun, UUID(recorded["id"]))
    found = Counter(e["category"] for e in run.exceptions.values())
    return {
        "demo_day": day.day.isoformat(),
        "seed": day.seed,
        "size": day.size,
        "events": (await store.head()).position,
        "made": dict(sorted(flows.tally.items())),
        "examples": {
            "paid_invoice": min(flows.invoices, default=None),
            "wallet_holder": min(flows.wallet_holders, default=None),
            "ticket": min(flows.tickets, default=None),
        },
        "statement": {
            "file": statement.name,
            "accounts": len({b.account_no for b in flows.bank.bookings}),
            "lines": sum(len(flows.bank.statement_lines(a)) for a in {b.account_no for b in flows.bank.bookings}),
        },
        "reconciliation": {
            "run_id": recorded["id"],
            "exceptions": dict(sorted(found.items())),
            "planted": dict(sorted(flows.bank.planted.items())),
            "open_exceptions": len(run.open_cases),
            "balances_disagree": sorted({f"{b['account']} {b['check']}" for b in run.balance_checks if not b["ok"]}),
        },
        "settlement": {
            "business_date": closed["business_date"],
            "batches": [
                {
                    "id": b["id"],
                    "payee_account": b["payee_account"],
                    "net_vnd": b["net_vnd"],
                    "message_id": b["message_id"],
                    "file": payout_files[b["id"]].name,
                }
                for b in closed["batches"]
            ],
            "total_vnd": sum(b["net_vnd"] for b in closed["batches"]),
            "carried": closed["carried"],
            "cash_not_banked": closed["cash_not_banked"],
        },
    }
