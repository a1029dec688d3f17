"""``report.html``: the reconciliation for finance staff, in one self-contained page.

Summary per category, balance checks, an inline SVG chart of matched lines against
each exception category, and the exceptions table. The page loads nothing from
anywhere (no scripts, fonts or images), so it can be mailed or archived as is. The
table shows at most `HTML_ROWS_MAX` exceptions; report.csv has all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any, TextIO

from settlement.outcomes import CATEGORIES, Case, Category, Reconciliation
from settlement.reasons import Money, line_number
from settlement.report_words import CATEGORY_WORDS, amount, category_label, counted, group
from settlement.resolve_commands import ResolveCommands
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


def _sums(sums: Mapping[str, int]) -> str:
    return "<br>".join(amount(v, c) for c, v in sums.items()) or "0"


def _chart(categories: Mapping[str, Any]) -> str:
    """Horizontal bars of statement lines and ledger items per category."""
    rows = [(c, categories[c.value]["lines"], categories[c.value]["items"]) for c in CATEGORIES]
    top = max([1] + [max(lines, items) for _, lines, items in rows])
    width, bar, label = 420, 12, 380  # label: room for the longest Vietnamese name and its English one
    parts = []
    for i, (category, lines, items) in enumerate(rows):
        y = 10 + i * 38
        colour = _COLOURS[category]
        vi, en = CATEGORY_WORDS[category]
        parts.append(f'<text x="0" y="{y + 17}" font-size="13">{escape(vi)} ({escape(en)})</text>')
        for j, (count, name) in enumerate(((lines, "bank line"), (items, "ledger item"))):
            length = max(1, round(width * count / top)) if count else 0
            opacity = "1" if j == 0 else "0.55"
            yy = y + j * (bar + 2)
            parts.append(
                f'<rect x="{label}" y="{yy}" width="{length}" height="{bar}" fill="{colour}" opacity="{opacity}"/>'
                f'<text x="{label + length + 4}" y="{yy + 10}" font-size="11">{counted(count, name)}</text>'
            )
    height = 20 + len(rows) * 38
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label + width + 140}" height="{height}" role="img" '
        f'aria-label="statement lines and ledger items per category">{"".join(parts)}</svg>'
    )


def _summary_table(categories: Mapping[str, Any], totals: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{category_label(Category(name))}</td><td class=n>{group(c['lines'])}</td>"
        f"<td class=n>{_sums(c['line_sums_minor'])}</td>"
        f"<td class=n>{group(c['items'])}</td><td class=n>{_sums(c['item_sums_minor'])}</td></tr>"
        for name, c in categories.items()
    )
    rows += (
        f"<tr><th>Tổng cộng (total)</th><th class=n>{group(totals['lines'])}</th>"
        f"<th class=n>{_sums(totals['line_sums_minor'])}</th>"
        f"<th class=n>{group(totals['items'])}</th><th class=n>{_sums(totals['item_sums_minor'])}</th></tr>"
    )
    return (
        "<table><tr><th>category</th><th>bank lines</th><th>bank sum</th><th>ledger items</th>"
        f"<th>ledger sum</th></tr>{rows}</table>"
    )


def _balance_table(balances: list[dict[str, Any]]) -> str:
    if not balances:
        return "<p>The statement carries no opening and closing balances to check.</p>"
    rows = "".join(
        f"<tr><td>{escape(b['statement_id'])}</td><td>{escape(b['account'])}</td><td>{escape(b['check'])}</td>"
        f"<td class=n>{_amount(b['expected_minor'], b['currency'])}</td>"
        f"<td class=n>{_amount(b['actual_minor'], b['currency'])}</td>"
        f"<td class={'ok' if b['ok'] else 'bad'}>{'ok' if b['ok'] else 'differs'}</td><td>{escape(b['note'])}</td></tr>"
        for b in balances
    )
    return (
        "<table><tr><th>statement</th><th>account</th><th>check</th><th>statement</th><th>computed / ledger</th>"
        f"<th>result</th><th>note</th></tr>{rows}</table>"
    )


def _money(money: Money) -> str:
    return amount(money.minor, money.currency)


def _amount(value: int | None, currency: str) -> str:
    return "" if value is None else amount(value, currency)


def line_text(entry: Entry) -> str:
    """The transfer note of a statement line: its transactions' remittance and the entry's info."""
    return " | ".join(t for t in [*(d.remittance for d in entry.details), entry.additional_info or ""] if t)


def line_counterparty(entry: Entry) -> str | None:
    party = entry.details[0].counterparty if entry.details else None
    return party.name if party else None


def _cells(values: list[str], kind: str) -> str:
    """One cell of one value per line or item; ``kind`` is its class (`_STYLE`)."""
    return f"<td class={kind}>{'<br>'.join(values)}</td>"


def _case_row(result: Reconciliation, number: int, case: Case, commands: ResolveCommands | None) -> str:
    entries = [(i, result.entries[i]) for i in case.lines]
    items = [result.items[i] for i in case.items]
    state = f"resolved: {escape(case.resolution)}" if case.resolution else "settled" if case.settled else "open"
    bank = [
        f"line {line_number(i)}: {e.direction.value} {amount(e.amount_minor, e.currency)} "
        f"{escape(e.acct_svcr_ref or '')}"
        for i, e in entries
    ]
    ledger = [
        f"{escape(it.item_id)} {it.direction.value} {amount(it.amount_minor, it.currency)} "
        f"{escape(it.payment_reference or it.bank_tx_id or '')}"
        for it in items
    ]
    row = (
        f"<tr class=case><td class=n>{number}</td><td>{category_label(case.category)}</td><td>{state}</td>"
        f"<td class=why>{case.explanation.render(_money, escape)}</td>{_cells(bank, 'id')}"
        f"{_cells([str(e.booking_date or '') for _, e in entries], 'd')}"
        f"{_cells([str(e.value_date or '') for _, e in entries], 'd')}"
        f"{_cells([escape(line_counterparty(e) or '') for _, e in entries], 'who')}"
        f"{_cells([escape(line_text(e)) for _, e in entries], 'id')}"
        f"{_cells(ledger, 'id')}{_cells([str(it.booking_date) for it in items], 'd')}</tr>"
    )
    resolve = commands.for_case(result, number, case) if commands else []
    if resolve:
        codes = "<br>".join(f"<code>{escape(c)}</code>" for c in resolve)
        row += f"<tr class=cmd><td colspan={len(_COLUMNS)}>{codes}</td></tr>"
    return row


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


def _exceptions_table(result: Reconciliation, commands: ResolveCommands | None) -> str:
    rows = [_case_row(result, number, case, commands) for number, case in enumerate(result.cases[:HTML_ROWS_MAX], 1)]
    more = len(result.cases) - HTML_ROWS_MAX
    rest = counted(more, "more exception")
    note = f"<p>{rest} {'is' if more == 1 else 'are'} in report.csv and report.json.</p>" if more > 0 else ""
    head = "".join(f"<th>{escape(c)}</th>" for c in _COLUMNS)
    return f"<table class=cases><tr>{head}</tr>{''.join(rows)}</table>{note}"


def _run_line(run_id: str | None) -> str:
    if run_id is None:
        return ""
    return (
        f"<p>Run <code>{escape(run_id)}</code>: decide each open case with one of the "
        "<code>citysettle resolve</code> commands under it, with your reason and name for REASON and USER.</p>\n"
    )


def write_html(
    result: Reconciliation, out: TextIO, summary: Mapping[str, Any], commands: ResolveCommands | None = None
) -> None:
    open_cases = summary["open_exceptions"]
    banner = (
        '<p class="banner ok">Reconciled: every line and item is matched and the balances agree.</p>'
        if summary["reconciled"]
        else f'<p class="banner bad">Not reconciled: {counted(open_cases, "open exception")}; see below.</p>'
    )
    statements = ", ".join(
        f"{escape(s['kind'])} {escape(s['statement_id'])} "
        f"({escape(s['account'])}, {counted(s['entries'], 'entry', 'entries')})"
        for s in summary["statements"]
    )
    statements += "".join(
        f"<br>{escape(r['file'])}: statement {r['position']} ({escape(r['statement_id'])}, {escape(r['account'])}) "
        f"repeats statement {r['same_as']} line for line and is read once"
        for r in summary.get("inputs", {}).get("repeated_statements", [])
    )
    out.write(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Reconciliation report</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>Reconciliation report</h1>\n<p>Statements: {statements}</p>\n"
        f"{_run_line(summary.get('run'))}"
        f"{banner}\n<h2>Summary</h2>\n{_summary_table(summary['categories'], summary['totals'])}\n"
        f"{_chart(summary['categories'])}\n<h2>Balances</h2>\n{_balance_table(summary['balances'])}\n"
        f"<h2>Exceptions</h2>\n{_exceptions_table(result, commands)}\n</body></html>\n"
    )
