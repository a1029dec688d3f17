"""The finance desk's pages: a day's figures, reconciliation runs and their exceptions,
settlement batches; and its forms, each through the use case its API call or command uses.

- ``GET /finance[?day=YYYY-MM-DD]``: collections by channel and method, the cashless share
  per parking lot, suspense and refunds payable, the day's settlement batches, the latest
  runs, the last 30 days as charts (inline SVG), and, for finance users, the forms.
- ``POST /finance/statements``: a bank statement file → a reconciliation run
  (`settlement.reconciliation.statement_runs.reconcile_statements`, as ``POST /v1/settlement/statements``).
- ``GET /finance/runs/{run_id}[?category=&state=]``: a run's exceptions, filtered.
- ``GET /finance/runs/{run_id}/cases/{case}``: both sides of one exception, its decision,
  and the resolution form; ``POST`` there resolves it (`resolve_exception`, as ``citysettle
  resolve``, the signed-in user as the resolver).
- ``POST /finance/batches``: close a business day (`settlement.payouts.day_close.close_day`, as
  ``POST /v1/settlement/batches``); ``GET /finance/batches/{batch_id}/pain001.xml``.

A refused form (a rule of the use case) answers its page again with the refusal in words
and the use case's status (404, 409, 422); nothing was changed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from typing import Any
from uuid import UUID

import msgspec
from aiohttp import web
from multidict import MultiDictProxy

from adapters.http.settlement_batches import CloseBody
from adapters.web.desk_auth import DESK, DeskUser, action, field_text, see_other
from adapters.web.desk_charts import BarChart, LineChart
from adapters.web.setup import render_page
from domain.model.errors import DomainError, NotFound
from domain.services.unit_of_work import RequestKey, UnitOfWork, execute
from settlement.collections import CHANNEL_ORDER, HELD_ACCOUNTS, METHODS, collection_days
from settlement.desk_figures import all_lots, day_batches, last_days, latest_run_per_day, lot_shares, recent_runs
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.day_close import batch_file, close_day
from settlement.payouts.pain001 import BankAccount
from settlement.reconciliation.ledger_side import registered_accounts
from settlement.reconciliation.outcomes import Category, MatchOptions
from settlement.reconciliation.run_report import exception_views
from settlement.reconciliation.runs import ALLOWED, ReconciliationRun, Resolution
from settlement.reconciliation.statement_runs import reconcile_statements
from settlement.reconciliation.use_cases import resolve_exception
from settlement.statements import StatementError, StatementFormat, read_statement_file
from settlement.statements.model import normalise_account

RUNS_SHOWN = 10
STATES = ("all", "open", "decided", "settled")
LEDGER_BANK = re.compile(r"bank:[0-9]{6}:[A-Za-z0-9]{1,19}")


def _today(desk_clock: dt.datetime) -> dt.date:
    return desk_clock.astimezone(VIETNAM_TZ).date()


def _day(request: web.Request) -> dt.date:
    raw = request.query.get("day", "")
    try:
        return dt.date.fromisoformat(raw) if raw else _today(request.app[DESK].clock())
    except ValueError:
        raise NotFound(f"no day {raw!r}: give YYYY-MM-DD") from None


async def dashboard(request: web.Request, user: DeskUser) -> web.StreamResponse:
    desk = request.app[DESK]
    day = _day(request)
    days = last_days(day)
    figures = await collection_days(desk.projections, days)
    shares = await lot_shares(desk.projections, days)
    runs = await recent_runs(desk.store, desk.projections)
    per_day = latest_run_per_day(runs)
    bars = BarChart.of(
        [(d.isoformat(), r.matched_lines if r else 0, r.exceptions if r else 0) for d in days for r in [per_day.get(d)]]
    )
    city = {d: all_lots(s) for d, s in shares.items()}
    line = LineChart.of(
        [(d.isoformat(), city[d].count_bps if city[d].cash_count + city[d].cashless_count else None) for d in days]
    )
    context = {
        "user": user,
        "day": day,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "today": _today(desk.clock()),
        "figures": figures[-1],
        "channels": CHANNEL_ORDER,
        "methods": METHODS,
        "held_accounts": HELD_ACCOUNTS,
        "lots": shares[day],
        "city": city[day],
        "batches": await day_batches(desk.store, desk.projections, day),
        "runs": runs[:RUNS_SHOWN],
        "bars": bars,
        "line": line,
        "formats": [f.value for f in StatementFormat],
        "default_cutoff": SettlementCalendar().cutoff.strftime("%H:%M"),
        "once": secrets.token_hex(16),
    }
    return render_page(request, "finance/desk.html", context)


async def _run(request: web.Request) -> ReconciliationRun:
    raw = request.match_info["run_id"]
    try:
        identifier = UUID(raw)
    except ValueError:
        raise NotFound(f"no reconciliation run {raw}") from None
    return await UnitOfWork(request.app[DESK].store).get(ReconciliationRun, identifier)


def _state(case: dict[str, Any]) -> str:
    if case["open"]:
        return "open"
    return "decided" if case["decision"] or case.get("resolution") else "settled"


async def run_page(request: web.Request, user: DeskUser) -> web.StreamResponse:
    run = await _run(request)
    category = request.query.get("category", "")
    state = request.query.get("state", "all")
    cases = [{**case, "state": _state(case)} for case in exception_views(run)]
    shown = [
        c for c in cases if (not category or c["category"] == category) and (state == "all" or c["state"] == state)
    ]
    context = {
        "user": user,
        "run": run,
        "cases": shown,
        "total": len(cases),
        "categories": [c.value for c in Category if c is not Category.MATCHED],
        "states": STATES,
        "category": category,
        "state": state if state in STATES else "all",
    }
    return render_page(request, "finance/run.html", context)


def _case_number(request: web.Request) -> int:
    raw = request.match_info["case"]
    if not raw.isdigit() or not 1 <= int(raw) <= 10**9:
        raise NotFound(f"no exception {raw!r}")
    return int(raw)


async def _case_page(
    request: web.Request,
    user: DeskUser,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    run = await _run(request)
    number = _case_number(request)
    run.exception(number)  # 404 when the run has no such case
    (case,) = [c for c in exception_views(run) if c["case"] == number]
    allowed = sorted(r.value for r in ALLOWED.get(Category(case["category"]), frozenset()))
    accounts = sorted({line["account"] for line in case["lines"]} - set(run.ledger_accounts))
    context = {
        "user": user,
        "run": run,
        "case": {**case, "state": _state(case)},
        "allowed": allowed,
        "unmapped_accounts": accounts if not case["items"] else [],
        "error": error,
        "form": form or {},
        "done": request.query.get("done") == "1",
    }
    return render_page(request, "finance/case.html", context, status=status)


async def case_page(request: web.Request, user: DeskUser) -> web.StreamResponse:
    return await _case_page(request, user)


async def _resolve(request: web.Request, user: DeskUser, form: MultiDictProxy[Any]) -> web.StreamResponse:
    desk = request.app[DESK]
    run = await _run(request)
    number = _case_number(request)
    entered = {k: field_text(form, k) for k in ("resolution", "reason", "account_number", "ledger_account")}
    try:
        resolution = Resolution(entered["resolution"])
    except ValueError:
        return await _case_page(request, user, status=422, error="choose_resolution", form=entered)
    given = {}
    if entered["ledger_account"]:
        if not LEDGER_BANK.fullmatch(entered["ledger_account"]) or not entered["account_number"]:
            return await _case_page(request, user, status=422, error="bad_account", form=entered)
        given[normalise_account(entered["account_number"])] = entered["ledger_account"]
    known = {**await registered_accounts(desk.store), **given}
    use_case = resolve_exception(
        run.id, number, resolution, reason=entered["reason"], resolved_by=user.name, at=desk.clock(),
        known_accounts=known,
    )  # fmt: skip
    try:
        await execute(desk.store, use_case)
    except DomainError as refused:
        return await _case_page(request, user, status=refused.status, error=str(refused), form=entered)
    return see_other(f"{request.path.removesuffix('/resolution')}?done=1")


resolve = action(_resolve)


async def _upload(request: web.Request, user: DeskUser, form: MultiDictProxy[Any]) -> web.StreamResponse:
    desk = request.app[DESK]
    upload = form.get("statement")
    if not isinstance(upload, web.FileField):
        return await _refused_form(request, user, 422, "no_file")
    fmt = field_text(form, "format")
    day = field_text(form, "date")
    try:
        statement = read_statement_file(io.BytesIO(upload.file.read()), StatementFormat(fmt) if fmt else None)
        use_case = reconcile_statements(
            desk.store, [statement], day=dt.date.fromisoformat(day) if day else None, options=MatchOptions(),
            at=desk.clock(),
        )  # fmt: skip
    except (StatementError, ValueError) as unreadable:
        return await _refused_form(request, user, 422, f"{unreadable}")
    try:
        recorded = (await execute(desk.store, use_case)).result
    except StatementError as unreadable:
        return await _refused_form(request, user, 422, f"{unreadable}")
    return see_other(f"/finance/runs/{recorded['id']}")


upload_statement = action(_upload)


async def _refused_form(request: web.Request, user: DeskUser, status: int, message: str) -> web.Response:
    return render_page(request, "finance/refused.html", {"user": user, "message": message}, status=status)


async def _close(request: web.Request, user: DeskUser, form: MultiDictProxy[Any]) -> web.StreamResponse:
    desk = request.app[DESK]
    fields = {k: field_text(form, k, 80) for k in ("business_date", "bank_bin", "account_no", "name", "cutoff")}
    raw = {
        "business_date": fields["business_date"],
        "paying_account": {"bank_bin": fields["bank_bin"], "account_no": fields["account_no"], "name": fields["name"]},
        **({"cutoff": fields["cutoff"]} if fields["cutoff"] else {}),
    }
    try:
        body = msgspec.convert(raw, CloseBody)
    except msgspec.ValidationError as invalid:
        return await _refused_form(request, user, 422, f"{invalid}")
    cutoff = dt.time.fromisoformat(body.cutoff) if body.cutoff else SettlementCalendar().cutoff
    account = body.paying_account
    use_case = close_day(
        desk.store, desk.projections, business_date=body.business_date, calendar=SettlementCalendar(cutoff=cutoff),
        paying_account=BankAccount(account.bank_bin, account.account_no, account.name), closed_by=user.name,
        at=desk.clock(),
    )  # fmt: skip
    # The form's own nonce keys the write: a second click of the same form closes nothing twice.
    once = RequestKey.of(f"desk:{user.name}", field_text(form, "once", 64) or "-", raw)
    try:
        await execute(desk.store, use_case, once)
    except DomainError as refused:
        return await _refused_form(request, user, refused.status, str(refused))
    return see_other(f"/finance?day={body.business_date.isoformat()}#batches")


close_business_day = action(_close)


async def pain001(request: web.Request, user: DeskUser) -> web.StreamResponse:
    raw = request.match_info["batch_id"]
    try:
        identifier = UUID(raw)
    except ValueError:
        raise NotFound(f"no settlement batch {raw}") from None
    document, message_id = await batch_file(UnitOfWork(request.app[DESK].store), identifier)
    headers = {"Content-Disposition": f'attachment; filename="payout-{message_id}.xml"'}
    return web.Response(body=document, headers=headers, content_type="application/xml", charset="utf-8")
