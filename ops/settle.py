"""``citysettle settle``: close every payee's batch for a business day and write the
payout instruction (ISO 20022 pain.001) that finance sends to the bank.

The payee directory is a JSON file::

    {"paying_account": {"bank_bin": "970436", "account_no": "0011004455667", "name": "..."},
     "payees": {"payable:agency:so-tu-phap": {"bank_bin": "970405", "account_no": "...", "name": "..."}}}

Every payee with something to pay must be in it; that is checked before any batch is
closed. Exit codes: 0 done (also when there was nothing to pay), 1 refused.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.model.errors import DomainError, NotFound
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork, execute
from ops.config import Config
from ops.stores import open_store
from settlement.batches import SettlementBatch
from settlement.calendar import SettlementCalendar
from settlement.figures import PayableDay
from settlement.payables import PayableActivity
from settlement.payouts import BankAccount, PayeeDirectory, payout_instruction
from settlement.services import close_settlement_batch

EXIT_REFUSED = 1


def load_directory(path: Path) -> tuple[BankAccount, PayeeDirectory, set[str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        paying = BankAccount(**raw["paying_account"])
        payees = {k: BankAccount(**v) for k, v in raw["payees"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DomainError(f"cannot read the payee directory {path}: {exc}") from None
    return paying, PayeeDirectory(payees), set(payees)


async def payable_days(store: Any, calendar: SettlementCalendar, business_date: date) -> dict[str, PayableDay]:
    """Each payee's figures for the day, from the projection caught up with the log."""
    activity = PayableActivity(calendar)
    await ProjectionRunner(store, store, activity).catch_up()
    suffix = f"|{business_date.isoformat()}"
    days = {
        key.removesuffix(suffix): PayableDay.from_dict(row)
        for key, row in (await store.all_rows(activity.name)).items()
        if key.endswith(suffix)
    }
    return {payee: day for payee, day in sorted(days.items()) if day.net_vnd > 0}


async def settle(config: Config, args: argparse.Namespace, calendar: SettlementCalendar) -> dict[str, Any]:
    """Close the day's batches and write their payout file. The file is written (as
    ``.partial``) before the batches are committed and renamed after, so a committed
    close always has its file, and a failed one leaves none."""
    paying, directory, known = load_directory(args.payees)
    out: Path = args.out or Path(f"payout-{args.date.isoformat()}.xml")
    partial = out.with_name(out.name + ".partial")
    store = await open_store(config)
    try:
        days = await payable_days(store, calendar, args.date)
        unknown = sorted(set(days) - known)
        if unknown:
            raise NotFound(f"no bank account on file for {', '.join(unknown)}; add them to {args.payees}")
        if not days:
            return {"business_date": args.date.isoformat(), "batches": [], "total_vnd": 0, "file": None}
        close_all = _close_all(days, args, calendar, paying, datetime.now(UTC))
        # A rehearsal in a unit of work that is never committed gives the batches the
        # commit will create (their ids and figures are derived from the same inputs).
        rehearsal = UnitOfWork(store)
        planned = (await close_all(rehearsal))["batches"]
        batches = [await rehearsal.get(SettlementBatch, UUID(view["id"])) for view in planned]
        try:
            partial.write_bytes(_document(args.date, calendar, paying, directory, batches))
        except OSError as exc:
            raise DomainError(f"cannot write the payout file {partial}: {exc}") from None
        try:
            committed = (await execute(store, close_all)).result["batches"]
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        await store.close()
    if committed != planned:  # someone closed batches in between: this file is not what was committed
        partial.unlink(missing_ok=True)
        raise DomainError("the day's batches changed while settling; run settle again")
    partial.replace(out)
    return {
        "business_date": args.date.isoformat(),
        "batches": committed,
        "total_vnd": sum(b["net_vnd"] for b in committed),
        "file": str(out),
    }


def _close_all(
    days: dict[str, PayableDay],
    args: argparse.Namespace,
    calendar: SettlementCalendar,
    paying: BankAccount,
    at: datetime,
) -> Any:
    closing = [
        close_settlement_batch(
            payee_account=payee,
            business_date=args.date,
            day=day,
            calendar=calendar,
            paying_account=paying,
            closed_by=args.by,
            at=at,
        )
        for payee, day in days.items()
    ]

    async def close_all(uow: UnitOfWork) -> dict[str, Any]:
        # One unit of work: every payee's batch closes in the same atomic write, or none.
        return {"batches": [await close(uow) for close in closing]}

    return close_all


def _document(
    business_date: date,
    calendar: SettlementCalendar,
    paying: BankAccount,
    directory: PayeeDirectory,
    batches: list[SettlementBatch],
) -> bytes:
    digest = hashlib.sha256("".join(sorted(b.end_to_end_id for b in batches)).encode()).hexdigest()[:10].upper()
    return payout_instruction(
        message_id=f"CSP{business_date:%Y%m%d}{digest}",
        created_at=min(b.modified_on for b in batches),
        execution_date=calendar.payout_date(business_date),
        debtor=paying,
        batches=batches,
        payees=directory,
    )


def _command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    calendar = SettlementCalendar(cutoff=args.cutoff)
    try:
        summary = asyncio.run(settle(config, args, calendar))
    except DomainError as exc:
        print(f"citysettle settle: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(summary))
    return 0


def register(commands: Any) -> None:
    cmd = commands.add_parser("settle", help="close the day's settlement batches and write the pain.001 payout file")
    cmd.add_argument("--date", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD", help="the business day")
    cmd.add_argument("--payees", type=Path, required=True, help="payee directory (JSON, see the module docstring)")
    cmd.add_argument("--by", required=True, help="the finance user closing the day")
    cmd.add_argument("--out", type=Path, help="payout file (default ./payout-<date>.xml)")
    cmd.add_argument("--cutoff", type=time.fromisoformat, default=SettlementCalendar().cutoff, help="HH:MM, Hanoi time")
    cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    cmd.set_defaults(handler=_command)
