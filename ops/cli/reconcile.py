"""``citysettle reconcile``: a bank statement against the ledger, with reports for finance.

Exit codes: 0 reconciled (every line and item matched, balances agree), 3 exceptions
remain (see the reports), 1 the statement cannot be read or holds no statement (the
message says why; nothing is recorded), 2 no event store at the URL: like `settle` and
`resolve` it opens an existing store only (`serve` and `demo` create one) and then
writes no report.
The same file given twice is imported once. A statement a file holds twice, line for
line (banks reuse MT940's :20:/:28C:), is read once and listed under
``inputs.repeated_statements`` in report.json and on stderr; never dropped unsaid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast

from tqdm import tqdm

from adapters.eventstore.base import StoreNotFound
from ops.cli.arguments import bounded_int
from ops.cli.output_paths import folder_problem
from ops.config import Config
from ops.stores import open_store
from settlement.reconciliation.ledger_side import LedgerSide
from settlement.reconciliation.outcomes import MatchOptions, Reconciliation
from settlement.reconciliation.reports import write_reports
from settlement.reconciliation.resolve_commands import ResolveCommands
from settlement.reconciliation.runs import run_id_of
from settlement.reconciliation.statement_runs import (
    StatementRun,
    match_statements,
    period_of,
    read_side,
    record_statement_run,
    statements_of,
)
from settlement.statements import (
    StatementError,
    StatementFile,
    StatementFormat,
    distinct,
    read_statement_file,
)

EXIT_UNREADABLE = 1
EXIT_NO_STORE = 2  # as for a configuration error
EXIT_EXCEPTIONS = 3


@contextmanager
def _progress_reader(path: Path) -> Iterator[IO[bytes]]:
    """The file, with a byte progress bar on a terminal (parsing is the long part)."""
    with path.open("rb") as raw:
        if not sys.stderr.isatty():
            yield raw
            return
        size = path.stat().st_size
        with tqdm.wrapattr(raw, "read", total=size, desc=path.name, unit="B", unit_scale=True, leave=False) as wrapped:
            yield cast(IO[bytes], wrapped)


def read_statements(paths: Sequence[Path], fmt: StatementFormat | None) -> list[StatementFile]:
    files = []
    for path in paths:
        try:
            with _progress_reader(path) as stream:
                files.append(read_statement_file(stream, fmt))
        except (OSError, StatementError) as exc:
            raise StatementError(f"{path}: {exc}") from exc
    return files


async def ledger_side(config: Config, files: Sequence[StatementFile], first: date, last: date) -> LedgerSide:
    store = await open_store(config, create=False)
    try:
        return await read_side(store, files, first, last)
    finally:
        await store.close()


async def record_run(config: Config, run: StatementRun) -> dict[str, Any]:
    """Keep the run's findings as events (the same inputs record nothing new), and mark
    the settlement batches whose payout the statement showed."""
    store = await open_store(config, create=False)
    try:
        return await record_statement_run(store, run, datetime.now(UTC))
    finally:
        await store.close()


def _inputs(paths: Sequence[Path], files: Sequence[StatementFile], first: date, last: date) -> dict[str, Any]:
    return {
        # Distinct files only: a statement given twice must leave the report unchanged.
        "files": list(
            {
                f.file_sha256: {"name": p.name, "sha256": f.file_sha256, "format": f.format.value}
                for p, f in zip(paths, files, strict=True)
            }.values()
        ),
        "statements": [str(i.identity) for i in distinct(files)],
        "repeated_statements": _repeated(paths, files),
        "period": {"first": first.isoformat(), "last": last.isoformat()},
    }


def _repeated(paths: Sequence[Path], files: Sequence[StatementFile]) -> list[dict[str, Any]]:
    """Statements a file holds twice with the same content: read once, never dropped unsaid."""
    found = {
        (f.file_sha256, r.position): {
            "file": p.name,
            "statement_id": r.statement_id,
            "account": r.account,
            "position": r.position,
            "same_as": r.same_as,
        }
        for p, f in zip(paths, files, strict=True)
        for r in f.repeated
    }
    return list(found.values())


def _warn_repeated(repeated: Sequence[dict[str, Any]]) -> None:
    for r in repeated:
        print(
            f"citysettle reconcile: {r['file']}: statement {r['position']} ({r['statement_id']}, account "
            f"{r['account']}) repeats statement {r['same_as']} line for line; it is read once",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> tuple[int, Reconciliation | None]:
    fmt = StatementFormat(args.format) if args.format else None
    try:
        files = read_statements(args.statement, fmt)
        statements = statements_of(files)
        first, last = period_of(files, args.date)
    except StatementError as exc:
        print(f"citysettle reconcile: cannot read the statement: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE, None
    config = Config.from_env().with_overrides(store_url=args.store)
    if (problem := folder_problem(args.out)) is not None:
        return _unwritable(args.out, problem), None
    # After the file (its own bar): the three remaining steps, named as they run.
    steps = tqdm(total=3, desc="reconcile", leave=False, disable=not sys.stderr.isatty(), bar_format="{desc}")
    with steps:
        steps.set_description_str("reconcile: reading the ledger")
        try:
            side = asyncio.run(ledger_side(config, files, first, last))
        except StoreNotFound as exc:
            print(f"citysettle reconcile: {exc}", file=sys.stderr)
            return EXIT_NO_STORE, None
        steps.set_description_str(
            f"reconcile: matching {sum(len(s.entries) for s in statements):,} lines, {len(side.items):,} items"
        )
        options = MatchOptions(date_tolerance_days=args.tolerance_days)
        statement_run = match_statements(files, first, last, side, options)
        result = statement_run.result
        steps.set_description_str("reconcile: writing reports")
        inputs = _inputs(args.statement, files, first, last)
        _warn_repeated(inputs["repeated_statements"])
        run = str(run_id_of(result, statement_run.identities, first, last, side.last_position))
        try:
            write_reports(result, args.out, inputs, ResolveCommands(run, args.store, frozenset(side.ledger_accounts)))
        except OSError as exc:  # e.g. the disk is full: the run is not recorded without its reports
            return _unwritable(args.out, exc.strerror or str(exc)), None
        steps.set_description_str("reconcile: recording the run")
        recorded = asyncio.run(record_run(config, statement_run))
    totals = result.totals()
    summary = {
        "run": recorded["id"],
        "matched_batches": recorded.get("matched_batches", []),
        "reconciled": result.reconciled,
        "out": str(args.out),
        "lines": len(result.entries),
        "items": len(result.items),
        "open_exceptions": len(result.open_cases),
        "repeated_statements": len(inputs["repeated_statements"]),
        "categories": {c.value: {"lines": t.lines, "items": t.items} for c, t in totals.items()},
    }
    print(json.dumps(summary))
    return (0 if result.reconciled else EXIT_EXCEPTIONS), result


def _unwritable(out: Path, problem: str) -> int:
    print(f"citysettle reconcile: cannot write the reports to {out}: {problem}; give --out a folder you can write",
          file=sys.stderr)  # fmt: skip
    return EXIT_NO_STORE


def _command(args: argparse.Namespace) -> int:
    return run(args)[0]


def register(commands: Any) -> None:
    cmd = commands.add_parser("reconcile", help="reconcile a bank statement against the ledger; write reports")
    cmd.add_argument(
        "--statement",
        type=Path,
        action="append",
        required=True,
        metavar="FILE",
        help="camt.053/054, MT940 or CSV statement (repeatable; a repeated statement counts once)",
    )
    cmd.add_argument("--format", choices=[f.value for f in StatementFormat], help="default: detected from the content")
    cmd.add_argument(
        "--date",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the ledger day to reconcile (default: the statement's period)",
    )
    cmd.add_argument("--store", help="an existing event store's URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    cmd.add_argument(
        "--out",
        type=Path,
        default=Path("reconciliation"),
        metavar="DIR",
        help="where report.json, report.csv and report.html go (default ./reconciliation)",
    )
    cmd.add_argument(
        "--tolerance-days",
        type=bounded_int(0),
        default=MatchOptions().date_tolerance_days,
        help="date window of the amount matching, in days (default %(default)s)",
    )
    cmd.set_defaults(handler=_command)
