"""``citysettle resolve``: a finance user's decision on one reconciliation exception.

Booking a difference needs our ledger account of the statement's bank account. It is
taken from the ledger side of the exception, else from the accounts the run recorded
(those booked on, and payees' registered collection accounts), else from the collection
accounts registered since; only an account that none of these knows needs
``--account NUMBER=bank:BIN:NUMBER``.

Exit codes: 0 recorded (and its transfer posted), 1 refused (the message says why:
unknown run or case, already resolved, a resolution the category does not allow),
2 no event store at the URL (it opens existing stores only, and creates nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.eventstore.base import StoreNotFound
from domain.model.errors import DomainError
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from settlement.reconciliation.ledger_side import registered_accounts
from settlement.reconciliation.runs import Resolution
from settlement.reconciliation.use_cases import resolve_exception
from settlement.statements.model import normalise_account

EXIT_REFUSED = 1
EXIT_NO_STORE = 2  # as for a configuration error


async def resolve(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    store = await open_store(config, create=False)
    try:
        known = {**await registered_accounts(store), **dict(args.account)}
        use_case = resolve_exception(
            args.run,
            args.case,
            Resolution(args.resolution),
            reason=args.reason,
            resolved_by=args.by,
            at=datetime.now(UTC),
            known_accounts=known,
        )
        return (await execute(store, use_case)).result
    finally:
        await store.close()


def ledger_account_pair(text: str) -> tuple[str, str]:
    """``NUMBER=bank:BIN:ACCOUNT_NO``, as ``--account`` takes it (NUMBER as the statement
    names the account: its number, or its IBAN)."""
    number, _, account = text.partition("=")
    kind, bank_bin, account_no = ([*account.split(":"), "", ""])[:3]
    if not (
        normalise_account(number)
        and account.count(":") == 2
        and kind == "bank"
        and (bank_bin.isdigit() and len(bank_bin) == 6)
        and (account_no.isascii() and account_no.isalnum() and len(account_no) <= 19)
    ):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NUMBER=bank:BIN:NUMBER (e.g. 0011004455667=bank:970436:0011004455667)"
        )
    return normalise_account(number), account


def _command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    try:
        outcome = asyncio.run(resolve(config, args))
    except DomainError as exc:
        print(f"citysettle resolve: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except StoreNotFound as exc:
        print(f"citysettle resolve: {exc}", file=sys.stderr)
        return EXIT_NO_STORE
    print(json.dumps(outcome))
    return 0


def register(commands: Any) -> None:
    cmd = commands.add_parser("resolve", help="resolve one exception of a recorded reconciliation run")
    cmd.add_argument("--run", type=UUID, required=True, help="the run id that `citysettle reconcile` printed")
    cmd.add_argument("--case", type=int, required=True, help="the exception's number in the run's report")
    cmd.add_argument("--resolution", required=True, choices=[r.value for r in Resolution])
    cmd.add_argument("--reason", required=True, help="why; kept with the decision")
    cmd.add_argument("--by", required=True, help="the finance user deciding")
    cmd.add_argument(
        "--account",
        action="append",
        default=[],
        type=ledger_account_pair,
        metavar="NUMBER=bank:BIN:NUMBER",
        help="our ledger account for a statement account number that neither the run nor a payee's registered "
        "collection account names, e.g. 0011004455667=bank:970436:0011004455667",
    )
    cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    cmd.set_defaults(handler=_command)
