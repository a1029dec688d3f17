"""``report.html``: the reconciliation for finance staff, in one self-contained page.

Summary per category, balance checks, an inline SVG chart of matched lines against
each exception category, and the exceptions table. The page loads nothing from
anywhere (no scripts, fonts or images), so it can be mailed or archived as is. The
table shows at most `HTML_ROWS_MAX` exceptions; report.csv has all of them.

The markup is the Jinja template ``settlement/reconciliation/templates/report.html`` (the service's
pages use the same settings, `settlement.templating`: every value escaped); this module
gathers what it shows: the chart's geometry, each case's cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from html import escape
from typing import Any, TextIO

import jinja2
from markupsafe import Markup

from settlement import templating
from settlement.reconciliation.outcomes import CATEGORIES, Case, Category, Reconciliation
from settlement.reconciliation.reasons import Money, line_number
from settlement.reconciliation.report_words import CATEGORY_WORDS, amount
from settlement.reconciliation.resolve_commands import ResolveCommands
from settlement.statements.model import Entry

HTML_ROWS_MAX = 1_000
_COLOURS = {
    Category.MATCHED: "#2e7d32",
    Category.MISSING_IN_BANK: "#c62828",
    Category.MISSING_IN_LEDGER: "#ef6c00",
    Category.AMOUNT_MISMATCH: "#6a1b9a",
    Category.DUPLICATE: "#1565c0",
    Category.REVERSED: "#6d4c41",
}
# Cells align at the top (multi-line cells side by side). Bank references, notes, ledger
# ids and commands wrap anywhere inside their cell (.id, code) rather than widen the page;
# dates and amounts never wrap (.d, .n).
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem 1rem;color:#222;max-width:100rem}
table{border-collapse:collapse;margin:1rem 0;max-width:100%}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f0f0f0}.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#2e7d32}.bad{color:#c62828}.why{min-width:12em}.who{min-width:8em}.en{color:#595959}
.id{overflow-wrap:anywhere;min-width:8em}.d{white-space:nowrap}table.cases{font-size:.92em}
code{font-size:.85em;overflow-wrap:anywhere}tr.cmd td{border-top:none;background:#fafafa;padding-left:2rem}
.banner{padding:.8rem 1rem;font-weight:600}.banner.ok{background:#e8f5e9}.banner.bad{background:#ffebee}
"""
_COLUMNS = (
    "#",
    "category",
    "state",
    "reason",
    "bank line",
    "booked (bank)",
    "value date",
    "counterparty",
    "note",
    "ledger item",
    "booked (ledger)",
)
_CHART_WIDTH, _CHART_BAR, _CHART_LABEL = 420, 12, 380  # label: room for the longest Vietnamese name and its English


@cache
def _template() -> jinja2.Template:
    return templating.environment().get_template("report.html")


def _chart(categories: Mapping[str, Any]) -> dict[str, Any]:
    """Horizontal bars of statement lines and ledger items per category."""
    counts = [(c, categories[c.value]["lines"], categories[c.value]["items"]) for c in CATEGORIES]
    top = max([1] + [max(lines, items) for _, lines, items in counts])
    rows = []
    for i, (category, lines, items) in enumerate(counts):
        y = 10 + i * 38
        bars = [
            {
                "y": y + j * (_CHART_BAR + 2),
                "length": max(1, round(_CHART_WIDTH * count / top)) if count else 0,
                "opacity": "1" if j == 0 else "0.55",
                "count": count,
                "name": name,
            }
            for j, (count, name) in enumerate(((lines, "bank line"), (items, "ledger item")))
        ]
        rows.append({"y": y, "colour": _COLOURS[category], "words": CATEGORY_WORDS[category], "bars": bars})
    return {
        "rows": rows,
        "width": _CHART_LABEL + _CHART_WIDTH + 140,
        "height": 20 + len(counts) * 38,
        "label": _CHART_LABEL,
        "bar": _CHART_BAR,
    }


def _money(money: Money) -> str:
    return amount(money.minor, money.currency)


def line_text(entry: Entry) -> str:
    """The transfer note of a statement line: its transactions' remittance and the entry's info."""
    return " | ".join(t for t in [*(d.remittance for d in entry.details), entry.additional_info or ""] if t)


def line_counterparty(entry: Entry) -> str | None:
    party = entry.details[0].counterparty if entry.details else None
    return party.name if party else None


def _case(result: Reconciliation, number: int, case: Case, commands: ResolveCommands | None) -> dict[str, Any]:
    entries = [(i, result.entries[i]) for i in case.lines]
    items = [result.items[i] for i in case.items]
    state = f"resolved: {case.resolution}" if case.resolution else "settled" if case.settled else "open"
    return {
        "number": number,
        "words": CATEGORY_WORDS[case.category],
        "state": state,
        # the reason's words are escaped by render, its amounts are our own text
        "why": Markup(case.explanation.render(_money, escape)),  # noqa: S704
        "bank": [
            f"line {line_number(i)}: {e.direction.value} {amount(e.amount_minor, e.currency)} {e.acct_svcr_ref or ''}"
            for i, e in entries
        ],
        "booked": [str(e.booking_date or "") for _, e in entries],
        "value_dates": [str(e.value_date or "") for _, e in entries],
        "who": [line_counterparty(e) or "" for _, e in entries],
        "notes": [line_text(e) for _, e in entries],
        "ledger": [
            f"{it.item_id} {it.direction.value} {amount(it.amount_minor, it.currency)} "
            f"{it.payment_reference or it.bank_tx_id or ''}"
            for it in items
        ],
        "ledger_booked": [str(it.booking_date) for it in items],
        "commands": commands.for_case(result, number, case) if commands else [],
    }


def write_html(
    result: Reconciliation, out: TextIO, summary: Mapping[str, Any], commands: ResolveCommands | None = None
) -> None:
    cases = [_case(result, number, case, commands) for number, case in enumerate(result.cases[:HTML_ROWS_MAX], 1)]
    out.write(
        _template().render(
            style=_STYLE,
            statements=summary["statements"],
            repeated=summary.get("inputs", {}).get("repeated_statements", []),
            run=summary.get("run"),
            reconciled=summary["reconciled"],
            open_cases=summary["open_exceptions"],
            categories=[{"words": CATEGORY_WORDS[Category(name)], "c": c} for name, c in summary["categories"].items()],
            totals=summary["totals"],
            chart=_chart(summary["categories"]),
            balances=summary["balances"],
            columns=_COLUMNS,
            cases=cases,
            more=len(result.cases) - HTML_ROWS_MAX,
        )
        + "\n"
    )
