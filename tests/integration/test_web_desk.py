"""The finance desk over real HTTP, on each store: signing in and out, the session cookie,
CSRF refusals, the lockout, the auditor's read-only view (403 on every form that changes
anything), and the finance user's statement upload, resolution and day close."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from aiohttp import FormData

from adapters.web.desk import DECIDING
from adapters.web.desk_auth import DESK, SESSION_COOKIE
from domain.model.balances import Balance
from domain.model.clients import Role
from domain.model.users import MAX_FAILURES, User, user_stream_id
from domain.services.balances import account_key
from domain.services.unit_of_work import execute
from domain.services.users import disable_user
from settlement.reconciliation.runs import ReconciliationRun
from tests.integration.test_http_settlement_batches import PAYING, collected_day
from tests.integration.test_http_settlement_runs import ACCOUNT, STRAY, day_statement, paid_day
from tests.support.api import Api, ClientFactory, start_api
from tests.support.desk import PASSWORD, Browser, add_user, csrf_of


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    api = await start_api(aiohttp_client, store_url)
    await add_user(api.store, "lan", Role.FINANCE)
    await add_user(api.store, "kiem", Role.AUDITOR)
    return api


@pytest.fixture
def browser(api: Api) -> Browser:
    return Browser(api.http)


def _set_cookie(response: Any, name: str) -> str:
    (header,) = [h for h in response.headers.getall("Set-Cookie") if h.startswith(f"{name}=")]
    return str(header)


async def test_a_finance_user_signs_in_and_out(api: Api, browser: Browser, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    away = await api.http.get("/finance", allow_redirects=False)
    assert away.status == 303
    assert away.headers["Location"] == "/finance/login?next=/finance"
    signed = await browser.sign_in("lan")
    assert signed.status == 303
    assert signed.headers["Location"] == "/finance"
    cookie = _set_cookie(signed, SESSION_COOKIE)
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/finance"):
        assert attribute in cookie, cookie
    assert "Secure" not in cookie, "plain http here: Secure only over https"
    desk = await api.http.get("/finance")
    html = await desk.text()
    assert desk.status == 200
    assert '<strong class="user-name">lan</strong>' in html
    assert 'action="/finance/statements"' in html
    out = await browser.post("/finance/logout", {})
    assert out.status == 303
    assert (await api.http.get("/finance", allow_redirects=False)).status == 303
    user = await api.store.load(user_stream_id("lan"))
    assert [type(e).__name__ for e in user][-2:] == ["SignedIn", "SignedOut"]
    assert "argon2" not in caplog.text
    assert PASSWORD not in caplog.text


async def test_a_signed_out_session_cookie_is_dead_everywhere(api: Api, browser: Browser) -> None:
    await browser.sign_in("lan")
    (cookie,) = [c for c in api.http.session.cookie_jar if c.key == SESSION_COOKIE]
    stolen = cookie.value
    await browser.post("/finance/logout", {})
    replay = await api.http.get("/finance", cookies={SESSION_COOKIE: stolen}, allow_redirects=False)
    assert replay.status == 303, "the session is closed in the user's stream, not only in the browser"


async def test_a_wrong_password_is_refused_and_nothing_says_who_exists(api: Api, browser: Browser) -> None:
    wrong = await browser.sign_in("lan", "not the password at all")
    unknown = await browser.sign_in("nobody", "not the password at all")
    assert wrong.status == unknown.status == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in await wrong.text()
    assert "Sai tên đăng nhập hoặc mật khẩu." in await unknown.text()
    assert SESSION_COOKIE not in wrong.cookies


async def test_the_lockout_counts_failures_and_then_refuses_the_right_password(api: Api, browser: Browser) -> None:
    for _ in range(MAX_FAILURES):
        assert (await browser.sign_in("lan", "not the password at all")).status == 401
    locked = await browser.sign_in("lan")
    assert locked.status == 401
    assert "tạm khoá đến" in await locked.text()
    assert (await browser.sign_in("lan", "still guessing here")).status == 401
    events = await api.store.load(user_stream_id("lan"))
    assert [type(e) for e in events].count(User.SignInFailed) == MAX_FAILURES, "locked attempts record nothing"
    later = datetime.now(UTC) + timedelta(minutes=16)
    api.http.app[DESK].clock = lambda: later
    assert (await browser.sign_in("lan")).status == 303, "the window has passed"


async def test_forms_without_their_session_csrf_token_are_refused(api: Api, browser: Browser) -> None:
    login = await api.http.post("/finance/login", data={"name": "lan", "password": "correct horse battery staple"})
    assert login.status == 403, "the sign-in form needs its own token too"
    await browser.sign_in("lan")
    day, _ = await paid_day(api)
    sign_in_token = api.http.app[DESK].tokens.sign_in_csrf("0" * 32)
    for csrf in ("", "forged", sign_in_token):
        refused = await browser.post("/finance/batches", {"business_date": day}, csrf=csrf)
        assert refused.status == 403, csrf
        assert "Biểu mẫu đã hết hạn" in await refused.text()
    other = Browser(api.http)
    api.http.session.cookie_jar.clear()
    await other.sign_in("lan")
    assert (await other.post("/finance/logout", {}, csrf=browser.csrf)).status == 403, "another session's token"
    assert (await other.post("/finance/logout", {})).status == 303


async def test_an_auditor_reads_everything_and_may_post_nothing(api: Api, browser: Browser) -> None:
    day, reference = await paid_day(api)
    finance = Browser(api.http)
    await finance.sign_in("lan")
    run = await _upload(finance, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    api.http.session.cookie_jar.clear()
    await browser.sign_in("kiem")
    desk = await (await api.http.get("/finance")).text()
    assert 'id="read-only"' in desk
    assert re.findall(r'<form method="post" action="([^"]+)"', desk) == ["/finance/logout"]
    case_page = await (await api.http.get(f"/finance/runs/{run}/cases/1")).text()
    assert 'id="resolve"' not in case_page
    concrete = {"{run_id}": run, "{case}": "1"}
    for path in DECIDING:
        for name, value in concrete.items():
            path = path.replace(name, value)
        refused = await browser.post(path, {"resolution": "write_off", "reason": "x", "business_date": day})
        assert refused.status == 403, path
        assert "Kiểm toán viên chỉ được xem" in await refused.text()
    stored = await api.store.load(UUID(run))
    assert [type(e) for e in stored] == [ReconciliationRun.Recorded], "nothing was resolved"


async def _upload(browser: Browser, statement: dict[str, Any]) -> str:
    form = FormData()
    form.add_field("csrf", browser.csrf)
    form.add_field("statement", io.BytesIO(base64.b64decode(statement["content"])), filename="day.csv")
    uploaded = await browser.post("/finance/statements", form)
    assert uploaded.status == 303, await uploaded.text()
    location = uploaded.headers["Location"]
    assert location.startswith("/finance/runs/")
    return location.removeprefix("/finance/runs/")


async def test_a_finance_user_uploads_sees_the_exception_and_resolves_it(api: Api, browser: Browser) -> None:
    day, reference = await paid_day(api)
    await browser.sign_in("lan")
    run = await _upload(browser, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    listing = await (await api.http.get(f"/finance/runs/{run}", params={"state": "open"})).text()
    cases = re.findall(r'data-case="(\d+)" data-category="(\w+)" data-state="(\w+)"', listing)
    assert cases == [("1", "missing_in_ledger", "open")]
    assert "50.000\u00a0₫" in listing
    case_page = await (await api.http.get(f"/finance/runs/{run}/cases/1")).text()
    assert "FT26327STRAY" in case_page, "the bank line"
    assert 'option value="write_off"' in case_page
    before = await _caught_up(api, account_key("suspense"))
    path = f"/finance/runs/{run}/cases/1/resolution"
    done = await browser.post(path, {"resolution": "write_off", "reason": "to trace with the bank"})
    assert done.status == 303, await done.text()
    assert done.headers["Location"] == f"/finance/runs/{run}/cases/1?done=1"
    decided = await (await api.http.get(done.headers["Location"])).text()
    assert '<dd class="resolver">lan</dd>' in decided
    last = (await api.store.load(UUID(run)))[-1]
    assert isinstance(last, ReconciliationRun.ExceptionResolved)
    assert (last.resolved_by, last.resolution) == ("lan", "write_off")
    assert last.transfer_cause is not None
    again = await browser.post(path, {"resolution": "write_off", "reason": "twice"})
    assert again.status == 409
    after = await _caught_up(api, account_key("suspense"))
    assert after.posted_credits_vnd - before.posted_credits_vnd == 50_000, "the write-off booked the stray 50.000 ₫"


async def _caught_up(api: Api, key: str) -> Balance:
    head = (await api.store.head()).position
    for _ in range(500):
        if await api.store.tracking_position("ledger_balances") >= head:
            break
        await asyncio.sleep(0.01)
    found: Any = (await api.store.get_rows("ledger_balances", [key])).get(key)
    return Balance.from_dict(found)


async def test_an_unreadable_statement_is_refused_in_words(api: Api, browser: Browser) -> None:
    await browser.sign_in("lan")
    form = FormData()
    form.add_field("csrf", browser.csrf)
    form.add_field("statement", io.BytesIO(b"not a statement"), filename="x.txt")
    refused = await browser.post("/finance/statements", form)
    assert refused.status == 422
    assert "Không thực hiện được" in await refused.text()


async def test_a_finance_user_closes_a_day_and_downloads_its_payout_file(api: Api, browser: Browser) -> None:
    day = await collected_day(api)
    await browser.sign_in("lan")
    fields = {"business_date": day.isoformat(), "bank_bin": PAYING["bank_bin"], "account_no": PAYING["account_no"],
              "name": PAYING["name"], "cutoff": "23:00", "once": "form-1"}  # fmt: skip
    closed = await browser.post("/finance/batches", fields)
    assert closed.status == 303, await closed.text()
    desk = await (await api.http.get(f"/finance?day={day.isoformat()}")).text()
    (link,) = re.findall(r'href="(/finance/batches/[0-9a-f-]+/pain001\.xml)"', desk)
    assert 'data-status="closed"' in desk
    file = await api.http.get(link)
    assert file.status == 200
    assert file.content_type == "application/xml"
    assert b"pain.001.001.09" in await file.read()
    again = await browser.post("/finance/batches", fields)
    assert again.status == 303
    desk = await (await api.http.get(f"/finance?day={day.isoformat()}")).text()
    assert len(re.findall(r"pain001\.xml", desk)) == 1, "the same form again closes nothing twice"


async def _projected(api: Api, projection: str) -> None:
    head = (await api.store.head()).position
    for _ in range(500):
        if await api.store.tracking_position(projection) >= head:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{projection} did not catch up")


async def test_the_day_shows_collections_and_suspense_the_vietnamese_way(api: Api, browser: Browser) -> None:
    day, reference = await paid_day(api)
    await browser.sign_in("lan")
    run = await _upload(browser, day_statement(day, reference, STRAY.format(account=ACCOUNT, day=day)))
    await browser.post(f"/finance/runs/{run}/cases/1/resolution", {"resolution": "write_off", "reason": "trace"})
    await _projected(api, "finance_collections")
    html = await (await api.http.get(f"/finance?day={day}")).text()
    fees = re.search(r'<tr data-channel="fees">(.*?)</tr>', html, re.S)
    assert fees
    assert re.search(r'data-method="cashless">200\.000\u00a0₫<span class="count"> · 1</span>', fees.group(1))
    assert re.search(r'data-method="cash">0\u00a0₫', fees.group(1))
    assert '<td class="n" id="collections-total">200.000\u00a0₫</td>' in html
    suspense = re.search(r'<tr data-account="suspense">(.*?)</tr>', html, re.S)
    assert suspense
    assert suspense.group(1).count("50.000\u00a0₫") == 2, "in that day, and the closing balance"
    before = await (await api.http.get(f"/finance?day={date.fromisoformat(day) - timedelta(days=1)}")).text()
    assert '<td class="n" id="collections-total">0\u00a0₫</td>' in before
    assert "<svg" in html
    assert "<script" not in html


async def test_the_desk_speaks_english_by_the_switch(api: Api, browser: Browser) -> None:
    await browser.sign_in("lan")
    html = await (await api.http.get("/finance", params={"lang": "en"})).text()
    assert '<html lang="en">' in html
    for words in ("Finance desk", "Administrative fees", "Wallet top-ups", "Suspense (unidentified)", "Sign out"):
        assert words in html, words


async def test_a_disabled_user_is_signed_out_at_once(api: Api, browser: Browser) -> None:
    await browser.sign_in("lan")
    assert (await api.http.get("/finance", allow_redirects=False)).status == 200
    await execute(api.store, disable_user("lan", "left the department", datetime.now(UTC)))
    assert (await api.http.get("/finance", allow_redirects=False)).status == 303
    assert (await browser.sign_in("lan")).status == 401


async def test_after_sign_in_the_browser_goes_only_to_a_desk_page(api: Api) -> None:
    for asked, landed in (("/finance/runs/x", "/finance/runs/x"), ("//evil.example/finance", "/finance"),
                          ("https://evil.example/", "/finance"), ("/finance\\@evil", "/finance")):  # fmt: skip
        api.http.session.cookie_jar.clear()
        form = await api.http.get("/finance/login")
        data = {"csrf": csrf_of(await form.text()), "name": "lan", "password": PASSWORD, "next": asked}
        response = await api.http.post("/finance/login", data=data, allow_redirects=False)
        assert response.headers["Location"] == landed, asked
