"""``citysettle settle``: close every payee's batch for a business day and write the
payout instruction (ISO 20022 pain.001) that finance sends to the bank; or, with
``--reissue BATCH``, write that instruction again for batches already closed.

The payee directory is a JSON file::

    {"paying_account": {"bank_bin": "970436", "account_no": "0011004455667", "name": "..."},
     "payees": {"payable:agency:so-tu-phap": {"bank_bin": "970405", "account_no": "...", "name": "..."}}}

Without ``--payees``, each payee is paid to the payout account registered for it through
the API (`settlement.payouts.registered_payees`), from ``--paying-account BIN:NUMBER:NAME``.
Every account in it is checked before anything is closed (`settlement.payouts.pain001.account_problems`:
a NAPAS member's BIN, 1-19 letters or digits, a name a pain.001 can carry), and every
payee with something to pay must be in it.

Each batch claims the payee's payable postings that no batch has claimed and that were
booked before the day's cut-off (`settlement.payouts.claims`), so settling a day again, under
another ``--cutoff`` or after a later day, pays nothing twice. A payee whose open
postings net to zero or less is listed under ``carried``: nothing is paid and the net is
carried into its next batch. An operator is paid only the cash its attendants have
deposited: cash still held is withheld (``cash`` in each batch) and paid once banked;
``cash_not_banked`` lists each operator's days whose cash has not all reached the bank.

Exit codes: 0 done (also when there was nothing to pay), 2 refused (one line saying why
and what to do; nothing closed or written).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.eventstore.base import StoreNotFound
from domain.model.errors import DomainError, InvalidValue, NotFound
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork, UseCase, execute
from ops.cli.output_paths import file_problem
from ops.cli.payee_directory import load_directory
from ops.config import Config
from ops.stores import Store, open_store
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.cash_on_hand import CashDay, CashOnHand, cash_not_banked
from settlement.payouts.claims import Claim, open_claims
from settlement.payouts.pain001 import BankAccount, PayeeDirectory, payout_instruction
from settlement.payouts.payables import PayablePostings
from settlement.payouts.registered_payees import registered_directory
from settlement.payouts.use_cases import NothingToPay, close_settlement_batch, reissue_payouts

EXIT_REFUSED = 2


async def day_claims(store: Any, calendar: SettlementCalendar, business_date: date) -> list[Claim]:
    """Each payee's claim for the day, from the projection caught up with the log."""
    await ProjectionRunner(store, store, PayablePostings()).catch_up()
    return await open_claims(store, business_date, calendar)


async def cash_days(store: Any, through: date) -> list[CashDay]:
    """Operators' days whose cash has not all reached the bank, as of ``through``."""
    await ProjectionRunner(store, store, CashOnHand()).catch_up()
    return await cash_not_banked(store, through)


Render = Callable[[UnitOfWork, dict[str, Any]], Awaitable[tuple[bytes, Path]]]


async def _issue(store: Store, use_case: UseCase, render: Render, out: Path | None) -> tuple[dict[str, Any], Path]:
    """Run ``use_case`` and write the payout file ``render`` makes of it. The file is
    written (as ``.partial``) before the events are committed and renamed after, so a
    committed close or re-issue always has its file, and a failed one leaves none."""
    # A rehearsal in a unit of work that is never committed gives the batches the commit
    # will write (their ids, figures and message id are derived from the same inputs).
    rehearsal = UnitOfWork(store)
    planned = await use_case(rehearsal)
    document, default = await render(rehearsal, planned)
    path = out or default
    partial = path.with_name(path.name + ".partial")
    if (problem := file_problem(path)) is not None:  # the rename after the commit must not fail
        raise unwritable(path, problem)
    try:
        partial.write_bytes(document)
    except OSError as exc:
        raise unwritable(path, exc.strerror or str(exc)) from None
    try:
        committed = (await execute(store, use_case)).result
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if committed != planned:  # someone changed the batches in between: this file is not what was committed
        partial.unlink(missing_ok=True)
        raise DomainError("the batches changed while the payout file was written; run settle again")
    partial.replace(path)
    return committed, path


def unwritable(path: Path, problem: str) -> DomainError:
    return DomainError(
        f"cannot write the payout file {path}: {problem}; give --out a file name in a folder you can write"
    )


def _check_out(out: Path | None) -> None:
    if out is not None and (problem := file_problem(out)) is not None:
        raise unwritable(out, problem)


async def settle(config: Config, args: argparse.Namespace, calendar: SettlementCalendar) -> dict[str, Any]:
    """Close the day's batches and write their payout file."""
    _check_out(args.out)  # before the store is even opened
    file = load_directory(args.payees) if args.payees else None  # a bad file is refused before anything
    paying = paying_account_of(args, file)
    store = await open_store(config, create=False)
    try:
        claims = await day_claims(store, calendar, args.date)
        close_all = _close_all(claims, args, calendar, paying, datetime.now(UTC))
        planned = await close_all(UnitOfWork(store))  # never committed: who would be paid
        directory = await directory_of(store, args, [batch["payee_account"] for batch in planned["batches"]], file)
        summary = {
            "business_date": args.date.isoformat(),
            "carried": planned["carried"],
            "cash_not_banked": [day.as_dict() for day in await cash_days(store, args.date)],
        }
        if not planned["batches"]:
            return summary | {"batches": [], "total_vnd": 0, "file": None}

        async def render(uow: UnitOfWork, planned: dict[str, Any]) -> tuple[bytes, Path]:
            batches = [await uow.get(SettlementBatch, UUID(view["id"])) for view in planned["batches"]]
            document = _document(args.date, calendar, paying, directory, batches)
            return document, Path(f"payout-{args.date.isoformat()}.xml")

        committed, path = await _issue(store, close_all, render, args.out)
    finally:
        await store.close()
    total = sum(b["net_vnd"] for b in committed["batches"])
    return (
        summary
        | {"carried": committed["carried"], "batches": committed["batches"], "total_vnd": total}
        | {"file": str(path)}
    )


async def reissue(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Write the payout instruction of closed batches again, to the directory's accounts,
    under a new message id; the same EndToEndIds let the bank refuse a second payment."""
    _check_out(args.out)
    file = load_directory(args.payees) if args.payees else None
    paying = paying_account_of(args, file)
    at = datetime.now(UTC)
    store = await open_store(config, create=False)
    try:
        uow = UnitOfWork(store)
        found = [batch for identifier in args.reissue if (batch := await uow.find(SettlementBatch, identifier))]
        directory = await directory_of(store, args, [batch.payee_account for batch in found], file)
        use_case = reissue_payouts(args.reissue, paying, directory, args.by, at)

        async def render(uow: UnitOfWork, planned: dict[str, Any]) -> tuple[bytes, Path]:
            batches = [await uow.get(SettlementBatch, UUID(view["id"])) for view in planned["batches"]]
            today = at.astimezone(VIETNAM_TZ).date()  # a bank refuses an execution date in the past
            document = payout_instruction(
                message_id=planned["message_id"],
                created_at=at,
                execution_date=max([today, *(b.payout_date for b in batches)]),
                debtor=paying,
                batches=batches,
                payees=directory,
            )
            return document, Path(f"payout-{planned['message_id']}.xml")

        committed, path = await _issue(store, use_case, render, args.out)
    finally:
        await store.close()
    return {
        "reissued": committed["message_id"],
        "batches": committed["batches"],
        "total_vnd": sum(b["net_vnd"] for b in committed["batches"]),
        "file": str(path),
    }


DirectoryFile = tuple[BankAccount, PayeeDirectory, set[str]]


def paying_account_of(args: argparse.Namespace, file: DirectoryFile | None) -> BankAccount:
    """The ``--payees`` file's paying account, else ``--paying-account``."""
    if file is not None:
        return file[0]
    if args.paying_account is None:
        raise InvalidValue("name the account that pays: --paying-account BIN:NUMBER:NAME (or give --payees FILE)")
    paying: BankAccount = args.paying_account
    return paying


async def directory_of(
    store: Store, args: argparse.Namespace, payee_accounts: list[str], file: DirectoryFile | None
) -> PayeeDirectory:
    """Where each payee is paid: the ``--payees`` file, else the payout account registered
    for it through the API (`settlement.payouts.registered_payees`)."""
    if file is None:
        return await registered_directory(UnitOfWork(store), payee_accounts)
    _, directory, known = file
    unknown = sorted(set(payee_accounts) - known)
    if unknown:
        raise NotFound(f"no bank account on file for {', '.join(unknown)}; add them to {args.payees}")
    return directory


def paying_account(text: str) -> BankAccount:
    """``BIN:NUMBER:NAME``, as ``--paying-account`` takes it (the name may hold colons)."""
    bank_bin, _, rest = text.partition(":")
    account_no, _, name = rest.partition(":")
    try:
        return BankAccount(bank_bin, account_no, name)
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc} (e.g. 970436:0011004455667:KHO BAC HA NOI)") from None


def _close_all(
    claims: list[Claim],
    args: argparse.Namespace,
    calendar: SettlementCalendar,
    paying: BankAccount,
    at: datetime,
) -> Any:
    closing = [
        close_settlement_batch(claim=claim, calendar=calendar, paying_account=paying, closed_by=args.by, at=at)
        for claim in claims
    ]

    async def close_all(uow: UnitOfWork) -> dict[str, Any]:
        # One unit of work: every payee's batch closes in the same atomic write, or none.
        batches, carried = [], []
        for claim, close in zip(claims, closing, strict=True):
            try:
                batches.append(await close(uow))
            except NothingToPay as nothing:  # nothing claimed: the net waits for the payee's next batch
                carried.append({"payee_account": claim.payee_account, "net_vnd": nothing.net_vnd})
        return {"batches": batches, "carried": carried}

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
        summary = asyncio.run(reissue(config, args) if args.reissue else settle(config, args, calendar))
    except (DomainError, StoreNotFound) as exc:
        print(f"citysettle settle: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(summary))
    return 0


def register(commands: Any) -> None:
    cmd = commands.add_parser("settle", help="close the day's settlement batches and write the pain.001 payout file")
    what = cmd.add_mutually_exclusive_group(required=True)
    what.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD", help="the business day to close")
    what.add_argument(
        "--reissue",
        type=UUID,
        action="append",
        metavar="BATCH",
        help="write the payout file of this closed batch again (repeatable): same EndToEndId, new message id",
    )
    cmd.add_argument(
        "--payees",
        type=Path,
        help="payee directory (JSON, see the module docstring); default: the payees registered through the API",
    )
    cmd.add_argument(
        "--paying-account",
        type=paying_account,
        metavar="BIN:NUMBER:NAME",
        help="our account that pays, when --payees is not given",
    )
    cmd.add_argument("--by", required=True, help="the finance user closing the day or re-issuing")
    cmd.add_argument("--out", type=Path, help="payout file (default ./payout-<date>.xml or ./payout-<message id>.xml)")
    cmd.add_argument("--cutoff", type=time.fromisoformat, default=SettlementCalendar().cutoff, help="HH:MM, Hanoi time")
    cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    cmd.set_defaults(handler=_command)
