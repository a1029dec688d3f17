"""Reconciliation over real HTTP, on each store: a statement upload records a run, its
report and exceptions are read, an exception is resolved by the signed-in client."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from adapters.http.signing import RequestSigner
from domain.model.clients import Role, client_of_key
from settlement.reconciliation.ledger_side import BANK_TZ
from settlement.reconciliation.run_index import NAME as RUN_INDEX
from settlement.reconciliation.runs import ReconciliationRun
from tests.integration.test_http_fees import INVOICE, seed
from tests.integration.test_http_openapi import check_against_spec
from tests.integration.test_http_payments import pay
from tests.support.api import Api, ClientFactory, start_api

ACCOUNT = "0011004455667"
HEADER = "record,account,statement_id,currency,amount,direction,booking_date,bank_tx_id,remittance"


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


def statement(*rows: str) -> dict[str, Any]:
    text = "\n".join([HEADER, *rows]) + "\n"
    return {"content": base64.b64encode(text.encode()).decode()}


async def paid_day(api: Api) -> tuple[str, str]:
    """A paid fee invoice; the day (Hanoi time) and the payment's reference."""
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    invoice = await (await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)).json()
    await pay(api, invoice["payment"], bank_tx_id="FT26327001")
    return datetime.now(BANK_TZ).date().isoformat(), invoice["payment"]["reference"]


def day_statement(day: str, reference: str, *extra: str) -> dict[str, Any]:
    paid = f"entry,{ACCOUNT},{day},VND,200000,CRDT,{day},FT26327001,MBVCB.1.{reference}.le phi"
    return statement(paid, *extra)


STRAY = "entry,{account},{day},VND,50000,CRDT,{day},FT26327STRAY,chuyen nham"


async def upload(api: Api, finance: RequestSigner, body: dict[str, Any], **options: Any) -> dict[str, Any]:
    response = await api.call(finance, "POST", "/v1/settlement/statements", body, **options)
    assert response.status == 201, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def test_a_matching_statement_records_a_reconciled_run(api: Api) -> None:
    day, reference = await paid_day(api)
    finance = await api.client(Role.FINANCE)
    run = await upload(api, finance, day_statement(day, reference))
    assert (run["reconciled"], run["lines"], run["items"], run["open_exceptions"]) == (True, 1, 1, [])
    assert run["categories"]["matched"] == {"lines": 1, "items": 1}
    assert (run["first_day"], run["last_day"]) == (day, day)
    stored = await api.store.load(UUID(run["id"]))
    assert [type(e) for e in stored] == [ReconciliationRun.Recorded]


async def test_an_exception_is_listed_reported_and_resolved(api: Api) -> None:
    day, reference = await paid_day(api)
    finance, auditor = await api.client(Role.FINANCE), await api.client(Role.AUDITOR)
    run = await upload(api, finance, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    assert run["reconciled"] is False
    (case,) = run["open_exceptions"]
    cases = await (await api.call(auditor, "GET", run["links"]["exceptions"])).json()
    (listed,) = [c for c in cases["cases"] if c["case"] == case]
    assert (listed["category"], listed["open"], listed["decision"]) == ("missing_in_ledger", True, None)
    assert listed["lines"][0]["amount_minor"] == 50_000
    path = f"{run['links']['self']}/exceptions/{case}/resolution"
    body = {"resolution": "write_off", "reason": "to trace with the bank"}
    resolved = await api.call(finance, "POST", path, body)
    assert resolved.status == 200, await resolved.text()
    answer = await resolved.json()
    assert (answer["resolved"]["case"], answer["open_exceptions"]) == (case, [])
    assert answer["resolved"]["transfer"].startswith("reconciliation:")
    again = await api.call(finance, "POST", path, body)
    assert again.status == 409
    report = await (await api.call(auditor, "GET", run["links"]["report_json"])).json()
    (decided,) = [c for c in report["cases"] if c["case"] == case]
    assert decided["decision"]["resolved_by"] == client_of_key(finance.key_id)
    assert (decided["open"], decided["decision"]["resolution"]) == (False, "write_off")
    csv = await api.call(auditor, "GET", run["links"]["report_csv"])
    assert csv.content_type == "text/csv"
    text = (await csv.read()).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("case,category,settled,open,resolution,resolved_by")
    assert "FT26327STRAY" in text
    assert "write_off" in text
    html = await api.call(auditor, "GET", run["links"]["report_html"])
    assert html.content_type == "text/html"
    assert run["id"] in await html.text()


async def test_the_resolver_is_the_signed_in_client(api: Api) -> None:
    day, reference = await paid_day(api)
    finance = await api.client(Role.FINANCE)
    run = await upload(api, finance, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    (case,) = run["open_exceptions"]
    path = f"{run['links']['self']}/exceptions/{case}/resolution"
    assert (await api.call(finance, "POST", path, {"resolution": "refund", "reason": "sent back"})).status == 200
    resolved = (await api.store.load(UUID(run["id"])))[-1]
    assert isinstance(resolved, ReconciliationRun.ExceptionResolved)
    assert resolved.resolved_by == client_of_key(finance.key_id)


async def test_runs_are_listed_a_page_at_a_time(api: Api) -> None:
    day, reference = await paid_day(api)
    finance = await api.client(Role.FINANCE)
    first = await upload(api, finance, day_statement(day, reference))
    second = await upload(api, finance, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    head = (await api.store.head()).position
    for _ in range(500):
        if await api.store.tracking_position(RUN_INDEX) >= head:
            break
        await asyncio.sleep(0.01)
    page = await (await api.call(finance, "GET", "/v1/settlement/runs?limit=1")).json()
    assert [r["id"] for r in page["runs"]] == [first["id"]]
    assert page["next_cursor"] == "1"
    rest = await (await api.call(finance, "GET", "/v1/settlement/runs?cursor=1&limit=1")).json()
    assert [r["id"] for r in rest["runs"]] == [second["id"]]
    assert rest["next_cursor"] is None
    assert rest["runs"][0]["reconciled"] is False
    read = await (await api.call(finance, "GET", second["links"]["self"])).json()
    assert read["open_exceptions"] == second["open_exceptions"]


async def test_a_retried_upload_is_one_run(api: Api) -> None:
    day, reference = await paid_day(api)
    finance = await api.client(Role.FINANCE)
    body = day_statement(day, reference)
    first = await api.call(finance, "POST", "/v1/settlement/statements", body, idempotency_key="stmt-1")
    retry = await api.call(finance, "POST", "/v1/settlement/statements", body, idempotency_key="stmt-1")
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await retry.json() == await first.json()


@pytest.mark.parametrize(
    ("body", "status", "kind", "field"),
    [
        ({"content": "not base64!"}, 422, "invalid-body", "$.content"),
        ({"content": base64.b64encode(b"hello, world\n").decode()}, 422, "unreadable-statement", "$.content"),
        ({**statement("entry,1,s,VND,1,CRDT,2026-11-23,,"), "format": "mt940"}, 422, "unreadable-statement", None),
        ({**statement("entry,1,s,VND,1,CRDT,2026-11-23,,"), "tolerance_days": -1}, 422, "invalid-body", None),
        ({**statement("entry,1,s,VND,1,CRDT,2026-11-23,,"), "extra": 1}, 422, "invalid-body", "$"),
        ({**statement("entry,1,s,VND,200.000,CRDT,2026-11-23,,")}, 422, "unreadable-statement", "$.content"),
    ],
)
async def test_bad_statements_are_refused_and_record_nothing(
    api: Api, body: dict[str, Any], status: int, kind: str, field: str | None
) -> None:
    finance = await api.client(Role.FINANCE)
    before = (await api.store.head()).position
    response = await api.call(finance, "POST", "/v1/settlement/statements", body)
    assert response.status == status, await response.text()
    problem = await response.json()
    assert problem["type"].endswith(f"/problems/{kind}")
    if field is not None:
        assert problem["field"] == field
    assert (await api.store.head()).position == before


async def test_unknown_runs_and_cases_and_refused_resolutions(api: Api) -> None:
    day, reference = await paid_day(api)
    finance = await api.client(Role.FINANCE)
    assert (await api.call(finance, "GET", "/v1/settlement/runs/nope")).status == 404
    unknown = "/v1/settlement/runs/00000000-0000-0000-0000-000000000000/report.html"
    assert (await api.call(finance, "GET", unknown)).status == 404
    run = await upload(api, finance, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    (case,) = run["open_exceptions"]
    base = f"{run['links']['self']}/exceptions"
    body = {"resolution": "write_off", "reason": "r"}
    assert (await api.call(finance, "POST", f"{base}/99/resolution", body)).status == 404
    assert (await api.call(finance, "POST", f"{base}/x/resolution", body)).status == 404
    refused = await api.call(finance, "POST", f"{base}/{case}/resolution", {**body, "resolution": "acknowledge"})
    assert refused.status == 422
    assert (await refused.json())["type"].endswith("/problems/invalid-value")
    bad_account = {**body, "accounts": {ACCOUNT: "cash:1"}}
    answer = await api.call(finance, "POST", f"{base}/{case}/resolution", bad_account)
    assert answer.status == 422
    assert (await answer.json())["field"].startswith("$.accounts")


async def test_answers_match_the_spec(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    day, reference = await paid_day(api)
    finance = await api.client(Role.FINANCE)
    body = day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day))
    uploaded = await api.call(finance, "POST", "/v1/settlement/statements", body)
    run = await uploaded.json()
    await check_against_spec(spec, "POST", "/v1/settlement/statements", uploaded)
    bad = await api.call(finance, "POST", "/v1/settlement/statements", {"content": "QUJD"})
    await check_against_spec(spec, "POST", "/v1/settlement/statements", bad)
    run_path = "/v1/settlement/runs/{run_id}"
    for path, concrete in [
        (run_path, run["links"]["self"]),
        (f"{run_path}/exceptions", run["links"]["exceptions"]),
        (f"{run_path}/report.json", run["links"]["report_json"]),
        ("/v1/settlement/runs", "/v1/settlement/runs"),
    ]:
        await check_against_spec(spec, "GET", path, await api.call(finance, "GET", concrete))
    (case,) = run["open_exceptions"]
    resolved = await api.call(
        finance, "POST", f"{run['links']['self']}/exceptions/{case}/resolution", {"resolution": "refund", "reason": "r"}
    )
    await check_against_spec(spec, "POST", f"{run_path}/exceptions/{{case}}/resolution", resolved)
