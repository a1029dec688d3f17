"""Reconciliation reports: ``report.json``, ``report.csv`` and ``report.html``.

- ``report.json``: inputs, balance checks, counts and signed sums per category (amounts
  as integer minor units, ``*_minor``), matches per stage, and every exception with both
  sides. One exception per line, so a large report stays greppable and fast to write.
- ``report.csv``: the exceptions for a spreadsheet (UTF-8 with a byte-order mark, plain
  amounts), one row per line or item involved
  (``role`` says whether it is categorised by the case or only shown as context).
  Matched lines are counted in the JSON, not listed: a day has millions of them.
- ``report.html``: see `settlement.reconciliation.report_html`.

Everything is written through the paths or streams given; the output depends only on
the reconciliation and the inputs given, so re-running yields byte-identical files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from settlement.currencies import format_minor
from settlement.reconciliation.outcomes import STAGES, Case, Reconciliation
from settlement.reconciliation.reasons import line_number
from settlement.reconciliation.report_html import line_counterparty, line_text, write_html
from settlement.reconciliation.resolve_commands import ResolveCommands

CSV_COLUMNS = (
    "case",
    "category",
    "settled",
    "resolution",
    "reason",
    "role",
    "side",
    "ref",
    "statement_id",
    "account",
    "booking_date",
    "value_date",
    "direction",
    "amount",
    "currency",
    "bank_ids",
    "end_to_end_id",
    "payment_reference",
    "text",
    "counterparty",
)


def line_view(result: Reconciliation, line: int) -> dict[str, Any]:
    entry = result.entries[line]
    statement = result.statements[result.line_statement[line]]
    return {
        "line": line_number(line),  # from 1, as the cases and the reasons' "line N" count
        "statement_id": statement.statement_id,
        "account": statement.account,
        "booking_date": entry.booking_date.isoformat() if entry.booking_date else None,
        "value_date": entry.value_date.isoformat() if entry.value_date else None,
        "direction": entry.direction.value,
        "amount": format_minor(entry.amount_minor, entry.currency),
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "reversal": entry.reversal,
        "status": entry.status,
        "bank_tx_code": entry.bank_tx_code,
        "bank_ids": [v for v in (entry.acct_svcr_ref, entry.entry_ref) if v]
        + [v for d in entry.details for v in (d.acct_svcr_ref, d.tx_id, d.uetr) if v],
        "end_to_end_ids": [d.end_to_end_id for d in entry.details if d.end_to_end_id],
        "transactions": len(entry.details),
        "text": line_text(entry),
        "counterparty": line_counterparty(entry),
    }


def item_view(result: Reconciliation, item: int) -> dict[str, Any]:
    it = result.items[item]
    return {
        "item": item,
        "item_id": it.item_id,
        "account": it.account,
        "booking_date": it.booking_date.isoformat(),
        "direction": it.direction.value,
        "amount": format_minor(it.amount_minor, it.currency),
        "amount_minor": it.amount_minor,
        "currency": it.currency,
        "payment_reference": it.payment_reference,
        "bank_tx_id": it.bank_tx_id,
        "end_to_end_id": it.end_to_end_id,
        "batch_id": it.batch_id,
    }


def case_view(
    result: Reconciliation, number: int, case: Case, commands: ResolveCommands | None = None
) -> dict[str, Any]:
    return {
        "case": number,
        "category": case.category.value,
        "settled": case.settled,
        "resolution": case.resolution,
        "reason": case.reason,
        "bank": [line_view(result, line) for line in case.lines],
        "ledger": [item_view(result, item) for item in case.items],
        "related_bank": [line_view(result, line) for line in case.related_lines],
        "related_ledger": [item_view(result, item) for item in case.related_items],
        "resolve": commands.for_case(result, number, case) if commands else [],
    }


def _stage_counts(result: Reconciliation) -> dict[str, int]:
    stages = dict.fromkeys((s.value for s in STAGES), 0)
    for code in result.pair_stages:
        stages[STAGES[code].value] += 1
    for match in result.multi_matches:
        stages[match.stage.value] += 1
    return stages


def _categories(result: Reconciliation) -> tuple[dict[str, Any], dict[str, Any]]:
    """Counts and signed sums per category, and their totals over all categories."""
    categories: dict[str, Any] = {}
    line_sums: dict[str, int] = {}
    item_sums: dict[str, int] = {}
    for category, t in result.totals().items():
        categories[category.value] = {
            "lines": t.lines,
            "items": t.items,
            "line_sums_minor": t.line_sums,
            "item_sums_minor": t.item_sums,
        }
        for currency, amount in t.line_sums.items():
            line_sums[currency] = line_sums.get(currency, 0) + amount
        for currency, amount in t.item_sums.items():
            item_sums[currency] = item_sums.get(currency, 0) + amount
    totals = {
        "lines": len(result.entries),
        "items": len(result.items),
        "line_sums_minor": dict(sorted(line_sums.items())),
        "item_sums_minor": dict(sorted(item_sums.items())),
    }
    return categories, totals


def summary(
    result: Reconciliation, inputs: Mapping[str, Any] | None = None, run_id: str | None = None
) -> dict[str, Any]:
    """Everything in report.json but the exceptions; ``run`` is the id `citysettle resolve`
    takes (the run is recorded under it)."""
    categories, totals = _categories(result)
    options = result.options
    return {
        "run": run_id,
        "inputs": dict(inputs or {}),
        "reconciled": result.reconciled,
        "options": {
            "date_tolerance_days": options.date_tolerance_days,
            "min_reference_prefix": options.min_reference_prefix,
        },
        "statements": [
            {
                "statement_id": s.statement_id,
                "account": s.account,
                "kind": s.kind,
                "version": s.version,
                "currency": s.currency,
                "entries": len(s.entries),
            }
            for s in result.statements
        ],
        "balances": [
            {
                "statement_id": c.statement_id,
                "account": c.account,
                "check": c.check,
                "currency": c.currency,
                "expected_minor": c.expected_minor,
                "actual_minor": c.actual_minor,
                "ok": c.ok,
                "note": c.note,
            }
            for c in result.balance_checks
        ],
        "categories": categories,
        "totals": totals,
        "matches_by_stage": _stage_counts(result),
        "open_exceptions": len(result.open_cases),
    }


def write_json(
    result: Reconciliation, out: TextIO, head_data: Mapping[str, Any], commands: ResolveCommands | None = None
) -> None:
    """``head_data`` is `summary` of the same result (computed once for all three reports)."""
    head = json.dumps(head_data, indent=2, ensure_ascii=False)
    out.write(head[:-2] + ',\n  "exceptions": [')
    for number, case in enumerate(result.cases, start=1):
        out.write(
            ("\n    " if number == 1 else ",\n    ")
            + json.dumps(case_view(result, number, case, commands), ensure_ascii=False)
        )
    out.write("\n  ]\n}\n" if result.cases else "]\n}\n")


def _csv_rows(result: Reconciliation) -> Iterator[list[Any]]:
    for number, case in enumerate(result.cases, start=1):
        head = [number, case.category.value, case.settled, case.resolution or "", case.reason]
        members = [("categorised", "bank", line_view(result, i)) for i in case.lines]
        members += [("categorised", "ledger", item_view(result, i)) for i in case.items]
        members += [("context", "bank", line_view(result, i)) for i in case.related_lines]
        members += [("context", "ledger", item_view(result, i)) for i in case.related_items]
        for role, side, view in members:
            bank = side == "bank"
            yield [
                *head,
                role,
                side,
                view["line"] if bank else view["item_id"],
                view.get("statement_id", ""),
                view["account"],
                view["booking_date"],
                view.get("value_date") or "",
                view["direction"],
                view["amount"],
                view["currency"],
                " ".join(view["bank_ids"]) if bank else view["bank_tx_id"] or "",
                " ".join(view["end_to_end_ids"]) if bank else view["end_to_end_id"] or "",
                "" if bank else view["payment_reference"] or "",
                view["text"] if bank else "",
                (view["counterparty"] or "") if bank else "",
            ]


def write_csv(result: Reconciliation, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(result))


def write_reports(
    result: Reconciliation,
    directory: Path,
    inputs: Mapping[str, Any] | None = None,
    commands: ResolveCommands | None = None,
) -> list[Path]:
    """Write report.json, report.csv and report.html into ``directory`` (created if
    needed); with ``commands``, the run id and each open case's resolve commands."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "report.json", directory / "report.csv", directory / "report.html"]
    head = summary(result, inputs, commands.run_id if commands else None)
    with paths[0].open("w", encoding="utf-8", newline="\n") as out:
        write_json(result, out, head, commands)
    # With a byte-order mark, spreadsheet programs read the file as UTF-8 (Vietnamese names).
    with paths[1].open("w", encoding="utf-8-sig", newline="") as out:
        write_csv(result, out)
    with paths[2].open("w", encoding="utf-8", newline="\n") as out:
        write_html(result, out, head, commands)
    return paths
