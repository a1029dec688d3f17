"""``citysettle resolve``: a finance user's decision on one reconciliation exception.

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
from settlement.reconciliation_service import resolve_exception
from settlement.runs import Resolution

EXIT_REFUSED = 1
EXIT_NO_STORE = 2  # as for a configuration error


async def resolve(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    store = await open_store(config, create=False)
    try:
        known = dict(pair.split("=", 1) for pair in args.account)
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
        metavar="NUMBER=LEDGER_ACCOUNT",
        help="our ledger account for a statement account number, e.g. 0011004455667=bank:970436:0011004455667",
    )
    cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    cmd.set_defaults(handler=_command)
