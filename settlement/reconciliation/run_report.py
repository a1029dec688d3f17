"""The report of a recorded reconciliation run, as JSON, CSV or HTML.

Made from the run's events alone (`ReconciliationRun`): what it compared, its balance
checks, its totals and every exception with both sides as recorded, and the decision on
each case taken since (who, what, why, when, the transfer it posted). So any process can
serve it, it stays the same until a case is resolved, and it shows what is still open.
The files ``citysettle reconcile`` writes beside it hold the statement's full text
(transfer notes, counterparties), which a run does not record.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from typing import Any

import jinja2

from settlement import templating
from settlement.currencies import format_minor
from settlement.reconciliation.runs import ReconciliationRun
from settlement.reconciliation.use_cases import run_view

CSV_COLUMNS = (
    "case",
    "category",
    "settled",
    "open",
    "resolution",
    "resolved_by",
    "reason",
    "side",
    "ref",
    "account",
    "booking_date",
    "direction",
    "amount",
    "currency",
    "bank_ref",
    "payment_reference",
)
HTML_ROWS_MAX = 1_000


def exception_views(run: ReconciliationRun) -> list[dict[str, Any]]:
    open_cases = set(run.open_cases)
    return [
        {**exception, "open": number in open_cases, "decision": run.decisions.get(number)}
        for number, exception in sorted(run.exceptions.items())
    ]


def report_json(run: ReconciliationRun) -> dict[str, Any]:
    return {
        **run_view(run),
        "totals": run.totals,
        "balance_checks": run.balance_checks,
        "ledger_accounts": run.ledger_accounts,
        "cases": exception_views(run),
    }


def _rows(run: ReconciliationRun) -> list[list[Any]]:
    rows = []
    for case in exception_views(run):
        decision = case["decision"] or {}
        head = [
            case["case"],
            case["category"],
            case["settled"],
            case["open"],
            decision.get("resolution") or case.get("resolution") or "",
            decision.get("resolved_by", ""),
            case["reason"],
        ]
        for line in case["lines"]:
            ref = f"{line['statement']}#{line['entry']}"
            amount = format_minor(line["amount_minor"], line["currency"])
            side = [line["account"], line["booking_date"] or "", line["direction"], amount, line["currency"]]
            rows.append([*head, "bank", ref, *side, line["bank_ref"] or "", ""])
        for item in case["items"]:
            amount = format_minor(item["amount_minor"], item["currency"])
            side = [item["account"], item["booking_date"], item["direction"], amount, item["currency"]]
            rows.append([*head, "ledger", item["item_id"], *side, "", item["payment_reference"] or ""])
    return rows


def report_csv(run: ReconciliationRun) -> str:
    """One row per statement line or ledger item of each case; UTF-8 with a byte-order
    mark when encoded, so spreadsheet programs read Vietnamese text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_rows(run))
    return out.getvalue()


@cache
def _template() -> jinja2.Template:
    return templating.environment().get_template("run_report.html")


def report_html(run: ReconciliationRun) -> str:
    """A self-contained page (loads nothing): summary, balance checks, the cases
    (the Jinja template ``settlement/reconciliation/templates/run_report.html``)."""
    view = run_view(run)
    state = "reconciled" if run.reconciled else f"{len(view['open_exceptions'])} open exception(s)"
    rows = _rows(run)
    return (
        _template().render(
            view=view,
            state=state,
            totals=run.totals,
            balance_checks=run.balance_checks,
            columns=CSV_COLUMNS,
            rows=rows[:HTML_ROWS_MAX],
            more=len(rows) - HTML_ROWS_MAX,
        )
        + "\n"
    )
