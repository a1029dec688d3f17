"""Reconciliation over HTTP: upload a bank statement (a run is recorded), list and read
runs, their reports (JSON, CSV, HTML) and exceptions, and resolve an exception.

A statement upload goes through the same use case as ``citysettle reconcile``
(`settlement.reconciliation.statement_runs`); a resolution through the one ``citysettle resolve`` uses,
with the signed-in client as the resolver. Finance writes; auditors read runs and
reports. The report is made from the run's events (`settlement.reconciliation.run_report`), so it
shows every decision taken since the run was recorded.
"""

from __future__ import annotations

import io
from typing import Any
from uuid import UUID

import msgspec
from aiohttp import web

from adapters.http.idempotency import run_write
from adapters.http.ledger import page_query
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Call, Reply, Route, roles
from adapters.http.settlement_views import (
    ExceptionsAnswer,
    ResolutionAnswer,
    ResolutionBody,
    RunAnswer,
    RunReport,
    RunsAnswer,
    StatementBody,
    StatementRunAnswer,
)
from domain.model.clients import Role
from domain.model.errors import NotFound
from domain.services.unit_of_work import UnitOfWork
from settlement.reconciliation.ledger_side import registered_accounts
from settlement.reconciliation.outcomes import MatchOptions
from settlement.reconciliation.run_index import NAME as RUN_INDEX
from settlement.reconciliation.run_index import runs_page
from settlement.reconciliation.run_report import exception_views, report_csv, report_html, report_json
from settlement.reconciliation.runs import ReconciliationRun, Resolution
from settlement.reconciliation.statement_runs import StatementRun, reconcile_statements
from settlement.reconciliation.use_cases import resolve_exception, run_view
from settlement.statements import StatementError, StatementFile, StatementFormat, read_statement_file
from settlement.statements.model import normalise_account

FINANCE = roles(Role.FINANCE)
READERS = roles(Role.FINANCE, Role.AUDITOR)
STATEMENT_BODY_MAX_BYTES = 1_048_576  # the service's own request limit; base64 makes it ~768 KiB of file
RUNS = "/v1/settlement/runs"
RUN = f"{RUNS}/{{run_id}}"


def _links(run_id: str) -> dict[str, str]:
    base = f"{RUNS}/{run_id}"
    return {
        "self": base,
        "exceptions": f"{base}/exceptions",
        "report_json": f"{base}/report.json",
        "report_csv": f"{base}/report.csv",
        "report_html": f"{base}/report.html",
    }


def _statement_file(body: StatementBody) -> StatementFile:
    try:
        return read_statement_file(io.BytesIO(body.content), StatementFormat(body.format) if body.format else None)
    except StatementError as exc:
        raise Problem(
            422, "Unreadable statement", f"cannot read the statement: {exc}", f"{PROBLEM_BASE}unreadable-statement",
            field="$.content",
        ) from exc  # fmt: skip


def _statement_answer(recorded: dict[str, Any], run: StatementRun | None) -> StatementRunAnswer:
    summary: dict[str, Any] = {}
    if run is not None:
        totals = run.result.totals()
        summary = {
            "lines": len(run.result.entries),
            "items": len(run.result.items),
            "categories": {c.value: {"lines": t.lines, "items": t.items} for c, t in totals.items()},
        }
    return msgspec.convert(
        {
            **recorded,
            **summary,
            "matched_batches": recorded.get("matched_batches", []),
            "links": _links(recorded["id"]),
        },
        StatementRunAnswer,
    )


async def upload_statement(call: Call) -> Reply:
    body: StatementBody = call.body
    statement = _statement_file(body)
    found: list[StatementRun] = []
    tolerance = body.tolerance_days if body.tolerance_days is not None else MatchOptions().date_tolerance_days
    try:
        use_case = reconcile_statements(
            call.services.store,
            [statement],
            day=body.date,
            options=MatchOptions(date_tolerance_days=tolerance),
            at=call.at,
            found=found,
        )
    except StatementError as exc:  # no dates and no ``date`` given
        raise Problem(422, "Invalid body", f"{exc}", f"{PROBLEM_BASE}invalid-body", field="$.date") from exc
    return await run_write(call, use_case, lambda recorded: (201, _statement_answer(recorded, found[-1])))


async def load_run(call: Call) -> ReconciliationRun:
    raw = call.param("run_id")
    try:
        identifier = UUID(raw)
    except ValueError:
        raise NotFound(f"no reconciliation run {raw}") from None
    return await UnitOfWork(call.services.store).get(ReconciliationRun, identifier)


def _run_answer(run: ReconciliationRun) -> RunAnswer:
    view = run_view(run)
    return msgspec.convert({**view, "links": _links(view["id"])}, RunAnswer)


async def list_runs(call: Call) -> Reply:
    after, limit = page_query(call)
    rows = call.services.projections
    position = await rows.tracking_position(RUN_INDEX)
    page, next_cursor = await runs_page(rows, after, limit)
    listed: list[Any] = page
    answer = {
        "runs": [{**row, "links": _links(row["id"])} for row in listed],
        "next_cursor": None if next_cursor is None else str(next_cursor),
        "as_of_position": position,
    }
    return Reply(200, msgspec.convert(answer, RunsAnswer))


async def read_run(call: Call) -> Reply:
    return Reply(200, _run_answer(await load_run(call)))


async def exceptions(call: Call) -> Reply:
    run = await load_run(call)
    after, limit = page_query(call)
    cases = [case for case in exception_views(run) if case["case"] > after]
    page = cases[:limit]
    more = len(cases) > limit
    answer = {
        "run_id": str(run.id),
        "cases": page,
        "next_cursor": str(page[-1]["case"]) if more else None,
    }
    return Reply(200, msgspec.convert(answer, ExceptionsAnswer))


async def report(call: Call, kind: str) -> web.StreamResponse:
    run = await load_run(call)
    if kind == "json":
        return web.Response(
            body=msgspec.json.encode(msgspec.convert(report_json(run), RunReport)), content_type="application/json"
        )
    if kind == "csv":
        headers = {"Content-Disposition": f'attachment; filename="report-{run.id}.csv"'}
        return web.Response(
            body=b"\xef\xbb\xbf" + report_csv(run).encode(), headers=headers, content_type="text/csv", charset="utf-8"
        )
    return web.Response(text=report_html(run), content_type="text/html", charset="utf-8")  # fmt: skip


def _case(call: Call) -> int:
    raw = call.param("case")
    if not raw.isdigit() or not 1 <= int(raw) <= 10**9:
        raise NotFound(f"no exception {raw!r}")
    return int(raw)


async def resolve(call: Call) -> Reply:
    body: ResolutionBody = call.body
    run = await load_run(call)
    assert call.caller is not None, "a signed call"
    given = {normalise_account(number): account for number, account in body.accounts.items()}
    known = {**await registered_accounts(call.services.store), **given}
    use_case = resolve_exception(
        run.id,
        _case(call),
        Resolution(body.resolution),
        reason=body.reason,
        resolved_by=call.caller.client_id,
        at=call.at,
        known_accounts=known,
    )

    def render(result: dict[str, Any]) -> tuple[int, ResolutionAnswer]:
        return 200, msgspec.convert({**result, "links": _links(result["id"])}, ResolutionAnswer)

    return await run_write(call, use_case, render)


def _report_route(kind: str, media: str) -> Route:
    async def handler(call: Call) -> web.StreamResponse:
        return await report(call, kind)

    return Route(
        "GET", f"{RUN}/report.{kind}", handler, READERS, f"The run's report as {kind.upper()}, with its resolutions",
        response=RunReport if kind == "json" else None, response_media=media,
    )  # fmt: skip


ROUTES = [
    Route(
        "POST", "/v1/settlement/statements", upload_statement, FINANCE,
        "Reconcile a bank statement (camt.053/054, MT940, CSV) against the ledger; the run is recorded",
        request=StatementBody, response=StatementRunAnswer, status=201, body_max_bytes=STATEMENT_BODY_MAX_BYTES,
    ),
    Route(
        "GET", RUNS, list_runs, READERS, "Reconciliation runs, oldest first, a bounded page at a time",
        response=RunsAnswer,
        query=(("cursor", "next_cursor of the previous page"), ("limit", "runs per page, at most 200")),
    ),
    Route("GET", RUN, read_run, READERS, "A reconciliation run and its open exceptions", response=RunAnswer),
    Route(
        "GET", f"{RUN}/exceptions", exceptions, READERS, "A run's exceptions with both sides and their decisions",
        response=ExceptionsAnswer,
        query=(("cursor", "next_cursor of the previous page"), ("limit", "cases per page, at most 200")),
    ),
    Route(
        "POST", f"{RUN}/exceptions/{{case}}/resolution", resolve, FINANCE,
        "Resolve an open exception (as citysettle resolve; the client is the resolver)",
        request=ResolutionBody, response=ResolutionAnswer,
    ),
    _report_route("json", "application/json"),
    _report_route("csv", "text/csv"),
    _report_route("html", "text/html"),
]  # fmt: skip
